import { isAppError } from './app-error.js';

// SQLSTATE classes and codes where the same statement can succeed on a later try:
// 08 connection exception, 40001 serialization failure, 40P01 deadlock, 53 insufficient
// resources, 57P01-03 admin shutdown / crash shutdown / cannot connect now, 25P03 idle in
// transaction timeout (the session of a worker that froze was ended).
const TRANSIENT_SQLSTATE = /^(08|53|57P0[123]|40001|40P01|25P03)/;
const SQLSTATE = /^[0-9A-Z]{5}$/;
const ERRNO = /^E[A-Z0-9_]+$/;

/**
 * Whether retrying the work that threw `error` can help: a lost connection, a deadlock or a
 * restarting server can; bad data cannot. Unknown errors count as transient so that a bug
 * in a dependency does not lose a job before its attempts run out.
 */
export function isTransient(error: unknown): boolean {
  if (isAppError(error)) return error.retryable;
  if (typeof error !== 'object' || error === null) return true;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code === undefined) return true;
  // A system error (ECONNRESET, EIO, EBUSY…) is the machine's, not the data's. No SQLSTATE
  // class starts with E.
  if (ERRNO.test(code)) return true;
  if (TRANSIENT_SQLSTATE.test(code)) return true;
  // Any other SQLSTATE (e.g. 22P02 invalid input) is a property of the data.
  return !SQLSTATE.test(code);
}
