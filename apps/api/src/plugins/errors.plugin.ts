import { ERROR_CODES, isAppError, type ErrorCode } from '@sluice/errors';
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

const BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  406: 'bad_request',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The one error body: `{"error": {"code", "message", "details"?}}`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

interface ErrorResponse {
  status: number;
  body: ReturnType<typeof errorBody>;
  /** Whether the server is at fault, so the cause belongs in the log. */
  log: boolean;
}

/**
 * Maps any error to a status and the one JSON error shape with a stable code. Our own errors
 * carry their code; request validation becomes `validation_failed` with each issue;
 * Fastify's and plugins' 4xx keep their status; anything else is a 500 whose cause is
 * logged, never sent.
 */
export function toErrorResponse(error: FastifyError): ErrorResponse {
  if (isAppError(error))
    return { status: error.status, body: errorBody(error.code, error.message, error.details), log: error.status >= 500 };
  if (hasZodFastifySchemaValidationErrors(error)) {
    // Typed here: the library types its issues through 'fastify/types/schema', which NodeNext
    // resolution cannot reach (fastify has no "exports"), so they would be `any`.
    const details = error.validation.map((v: FastifySchemaValidationError) => ({
      path: v.instancePath.slice(1).replaceAll('/', '.') || (error.validationContext ?? ''),
      message: v.message,
    }));
    const where = error.validationContext ?? 'request';
    const summary = details.map((d) => `${d.path} ${d.message}`).join('; ');
    return { status: 400, body: errorBody('validation_failed', `invalid ${where}: ${summary}`, details), log: false };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, body: errorBody(BY_STATUS[status] ?? 'bad_request', error.message), log: false };
  const code: ErrorCode = status === 503 ? 'unavailable' : 'internal';
  const message = code === 'unavailable' ? 'a dependency is unavailable; retry later' : 'internal error';
  return { status: ERROR_CODES[code].status, body: errorBody(code, message), log: true };
}

/** Installs {@link toErrorResponse} as the error handler, and a 404 in the same shape. */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      let response: ErrorResponse;
      try {
        response = toErrorResponse(error);
      } catch (mappingError) {
        request.log.error(mappingError, 'error handler failed');
        response = { status: 500, body: errorBody('internal', 'internal error'), log: true };
      }
      if (response.log) request.log.error(error, 'request failed');
      return reply.status(response.status).send(response.body);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send(errorBody('not_found', `route ${request.method} ${request.url.split('?')[0]} not found`)),
    );
  },
  { name: 'sluice-errors' },
);
