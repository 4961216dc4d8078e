/**
 * The error codes Sluice answers with. A code is a contract: clients and the worker match
 * on it, never on the message or the class.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, retryable: false },
  validation_failed: { status: 400, retryable: false },
  missing_file: { status: 400, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  conflict: { status: 409, retryable: false },
  payload_too_large: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  rate_limited: { status: 429, retryable: true },
  parse_error: { status: 422, retryable: false },
  header_mismatch: { status: 422, retryable: false },
  threshold_exceeded: { status: 422, retryable: false },
  limit_exceeded: { status: 422, retryable: false },
  dataset_missing: { status: 422, retryable: false },
  source_failed: { status: 502, retryable: false },
  source_missing: { status: 422, retryable: false },
  job_superseded: { status: 409, retryable: false },
  job_cancelled: { status: 409, retryable: false },
  unavailable: { status: 503, retryable: true },
  internal: { status: 500, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable `code`, the HTTP status it maps to, and whether retrying can help. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options.details;
  }
}

/** True for any error carrying one of Sluice's codes, whatever realm or copy of the class made it. */
export function isAppError(error: unknown): error is AppError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    Object.hasOwn(ERROR_CODES, error.code) &&
    'status' in error
  );
}
