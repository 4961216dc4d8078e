import { AppError, ERROR_CODES, type ErrorCode } from './app-error.js';
import { isTransient } from './transient.js';

/** An error as `pg` or Node reports it: a message and a string `code`. */
const withCode = (code: string): Error => Object.assign(new Error(`failed with ${code}`), { code });

describe('isTransient', () => {
  test.each([
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
    ['08006', 'connection failure'],
    ['08000', 'connection exception'],
    ['08003', 'connection does not exist'],
    ['57P01', 'admin shutdown'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now'],
    ['53300', 'too many connections'],
    ['53100', 'disk full'],
  ])('SQLSTATE %s (%s) is transient', (code) => {
    expect(isTransient(withCode(code))).toBe(true);
  });

  test.each([
    ['22P02', 'invalid text representation'],
    ['23505', 'unique violation'],
    ['23502', 'not-null violation'],
    ['42P01', 'undefined table'],
    ['42703', 'undefined column'],
    ['22001', 'string data right truncation'],
    ['40002', 'integrity constraint violation (class 40 but not a retryable code)'],
    ['57014', 'query canceled'],
    ['57P04', 'database dropped'],
  ])('SQLSTATE %s (%s) is not transient', (code) => {
    expect(isTransient(withCode(code))).toBe(false);
  });

  test.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH'])('network errno %s is transient', (code) => {
    expect(isTransient(withCode(code))).toBe(true);
  });

  test.each(Object.entries(ERROR_CODES) as Array<[ErrorCode, { retryable: boolean }]>)(
    'AppError %s is transient exactly when its code is retryable',
    (code, { retryable }) => {
      expect(isTransient(new AppError(code, 'x'))).toBe(retryable);
    },
  );

  test('AppError codes: the data ones are not transient, the infrastructure ones are', () => {
    const codes: ErrorCode[] = [
      'parse_error',
      'validation_failed',
      'bad_request',
      'dataset_missing',
      'unavailable',
      'internal',
      'rate_limited',
    ];
    expect(codes.map((code) => [code, isTransient(new AppError(code, 'x'))])).toStrictEqual([
      ['parse_error', false],
      ['validation_failed', false],
      ['bad_request', false],
      ['dataset_missing', false],
      ['unavailable', true],
      ['internal', true],
      ['rate_limited', true],
    ]);
  });

  test('an AppError wins over a SQLSTATE-looking cause', () => {
    expect(isTransient(new AppError('parse_error', 'bad', { cause: withCode('40001') }))).toBe(false);
  });

  test('an AppError-like object from another copy of the class is judged by its code', () => {
    expect(isTransient({ code: 'parse_error', status: 422, retryable: false, message: 'x' })).toBe(false);
    expect(isTransient({ code: 'unavailable', status: 503, retryable: true, message: 'x' })).toBe(true);
  });

  test.each([
    ['an Error without a code', new Error('mystery')],
    ['a string', 'oops'],
    ['undefined', undefined],
    ['null', null],
    ['an object with a numeric code', { code: 40001 }],
    ['a Node error code that is not a SQLSTATE', withCode('ERR_STREAM_PREMATURE_CLOSE')],
    ['an unknown lower-case code', withCode('abcde')],
  ])('unknown errors count as transient: %s', (_name, error) => {
    expect(isTransient(error)).toBe(true);
  });
});

test.each(['EIO', 'EBUSY', 'EMFILE', 'ENOSPC'])('system error %s is transient, not read as a SQLSTATE', (code) => {
  expect(isTransient(Object.assign(new Error('x'), { code }))).toBe(true);
});
