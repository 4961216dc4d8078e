import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The key an `Authorization` header presents: the token of `Bearer <key>`, or the password of
 * `Basic base64(user:key)` (any user name), which is what a browser can send to a dashboard.
 */
export function presentedKey(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return value;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Whether `authorization` presents `key`, compared in constant time (over digests, so lengths do not leak). */
export function presentsKey(authorization: string | undefined, key: string): boolean {
  const given = presentedKey(authorization);
  return given !== undefined && timingSafeEqual(digest(given), digest(key));
}
