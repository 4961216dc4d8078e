import { AppError, ERROR_CODES, isAppError } from './app-error.js';

describe('AppError', () => {
  test('carries its code, the HTTP status and retryability of that code, details and cause', () => {
    const cause = new Error('root');
    const error = new AppError('parse_error', 'unclosed quote at line 3', { details: { line: 3 }, cause });
    expect(error).toBeInstanceOf(Error);
    expect({
      name: error.name,
      message: error.message,
      code: error.code,
      status: error.status,
      retryable: error.retryable,
      details: error.details,
      cause: error.cause,
    }).toStrictEqual({
      name: 'AppError',
      message: 'unclosed quote at line 3',
      code: 'parse_error',
      status: 422,
      retryable: false,
      details: { line: 3 },
      cause,
    });
  });

  test.each(Object.entries(ERROR_CODES))('%s maps to its status and retryability', (code, { status, retryable }) => {
    const error = new AppError(code as keyof typeof ERROR_CODES, 'x');
    expect([error.status, error.retryable]).toStrictEqual([status, retryable]);
  });

  test('the code table that clients rely on', () => {
    expect(
      Object.fromEntries(
        Object.entries(ERROR_CODES).map(([code, { status, retryable }]) => [code, `${status}${retryable ? ' retry' : ''}`]),
      ),
    ).toStrictEqual({
      bad_request: '400',
      validation_failed: '400',
      missing_file: '400',
      unauthorized: '401',
      forbidden: '403',
      not_found: '404',
      conflict: '409',
      payload_too_large: '413',
      unsupported_media_type: '415',
      rate_limited: '429 retry',
      parse_error: '422',
      header_mismatch: '422',
      threshold_exceeded: '422',
      limit_exceeded: '422',
      dataset_missing: '422',
      source_failed: '502',
      source_missing: '422',
      job_superseded: '409',
      job_cancelled: '409',
      unavailable: '503 retry',
      internal: '500 retry',
    });
  });

  test('details default to undefined', () => {
    expect(new AppError('not_found', 'no such job').details).toBeUndefined();
  });
});

describe('isAppError', () => {
  test('true for an AppError', () => {
    expect(isAppError(new AppError('conflict', 'x'))).toBe(true);
  });

  test('true for a look-alike from another realm or copy: a known code and a status', () => {
    expect(isAppError({ code: 'not_found', status: 404 })).toBe(true);
  });

  test.each([
    ['a plain Error', new Error('x')],
    ['an error with an unknown code', Object.assign(new Error('x'), { code: 'ECONNREFUSED', status: 500 })],
    ['a known code without a status', { code: 'not_found' }],
    ['a non-string code', { code: 404, status: 404 }],
    ['an inherited property name as code', { code: 'toString', status: 500 }],
    ['null', null],
    ['a string', 'parse_error'],
  ])('false for %s', (_name, value) => {
    expect(isAppError(value)).toBe(false);
  });
});
