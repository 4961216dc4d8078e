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

/**
 * Maps every error to the one JSON error shape with a stable code. Our own errors carry
 * their code; request validation becomes `validation_failed` with each issue; Fastify's
 * and plugins' 4xx keep their status; anything else is a 500 whose cause is logged, never sent.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (isAppError(error)) {
        if (error.status >= 500) request.log.error(error, 'request failed');
        return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        // Typed here: the library types its issues through 'fastify/types/schema', which NodeNext
        // resolution cannot reach (fastify has no "exports"), so they would be `any`.
        const details = error.validation.map((v: FastifySchemaValidationError) => ({
          path: [v.instancePath.slice(1).replaceAll('/', '.'), (v.params.issue as { path?: unknown[] }).path?.join('.')].filter(Boolean).join('.') || (error.validationContext ?? ''),
          message: v.message,
        }));
        const where = error.validationContext ?? 'request';
        return reply.status(400).send(errorBody('validation_failed', `invalid ${where}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details));
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return reply.status(status).send(errorBody(BY_STATUS[status] ?? 'bad_request', error.message));
      }
      request.log.error(error, 'request failed');
      const code: ErrorCode = status === 503 ? 'unavailable' : 'internal';
      return reply.status(ERROR_CODES[code].status).send(errorBody(code, code === 'unavailable' ? 'a dependency is unavailable; retry later' : 'internal error'));
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send(errorBody('not_found', `route ${request.method} ${request.url.split('?')[0]} not found`)),
    );
  },
  { name: 'sluice-errors' },
);
