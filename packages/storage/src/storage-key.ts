import { AppError } from '@sluice/errors';

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/**
 * Refuses a key that could escape its root (`..`, a leading `/`) or carries characters a
 * path or an object name should not: keys are built by Sluice, never taken from a client.
 */
export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split('/').includes('..')) throw new AppError('bad_request', `invalid storage key "${key}"`);
}
