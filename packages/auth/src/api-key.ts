import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'sluice_';
const SHAPE = /^sluice_[A-Za-z0-9_-]{43}$/;

/** A new key: the secret (shown once), its lookup prefix and the hash that is stored. */
export interface NewApiKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

/**
 * Generates an API key: `sluice_` and 32 random bytes in base64url (256 bits). Only its
 * SHA-256 and its first 15 characters are kept; a fast hash is enough for a key this long.
 */
export function generateApiKey(): NewApiKey {
  const key = PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, PREFIX.length + 8), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Whether `candidate` has a key's shape; anything else is refused before a lookup. */
export function isWellFormedApiKey(candidate: string): boolean {
  return SHAPE.test(candidate);
}
