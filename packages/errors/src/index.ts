export { AppError, ERROR_CODES, isAppError, type ErrorCode } from './app-error.js';
export { isTransient } from './transient.js';
