import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { FORMATS } from '@sluice/pipeline';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** Where the OpenAPI document (`/docs/json`, `/docs/yaml`) and its Swagger UI are served. */
export const DOCS_PREFIX = '/docs';

const zodTransform = createJsonSchemaTransform({ skipList: [] });

// `POST /upload` reads its multipart body as a stream, so it has no body schema to compile;
// the document still says what to send.
const UPLOAD_BODY = {
  type: 'object',
  required: ['dataset', 'file'],
  properties: {
    dataset: { type: 'string', description: 'the dataset to ingest into; must come before the file' },
    format: { type: 'string', enum: [...FORMATS], description: 'the file format; else taken from the file name or content type' },
    file: { type: 'string', format: 'binary', description: 'the file: CSV, a JSON array or NDJSON' },
  },
};
const UPLOAD_HEADERS = {
  type: 'object',
  properties: {
    'idempotency-key': { type: 'string', description: 'the same key (1-200 characters) returns the job of the earlier upload, with 200' },
  },
};

const transform: typeof zodTransform = (input) => {
  const out = zodTransform(input);
  if (input.url !== '/upload' || out.schema === undefined || (out.schema as { hide?: boolean }).hide === true) return out;
  return { ...out, schema: { ...out.schema, body: UPLOAD_BODY, headers: UPLOAD_HEADERS } };
};

/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (never written by hand),
 * and Swagger UI at `/docs`. Every operation needs `Authorization: Bearer <API key>` unless
 * it says otherwise (the probes). Registered before the routes, which it collects as they
 * are added; a route with `schema.hide` (the UI's own, the queue dashboard's) stays out.
 */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Sluice',
          version: '1',
          description:
            'Ingest files into PostgreSQL: validated, normalized, deduplicated. Errors always have the shape `{"error": {"code", "message", "details"?}}`.',
        },
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>` (or `X-API-Key: <key>`)' },
            adminKey: { type: 'http', scheme: 'bearer', description: 'The operator\'s `ADMIN_KEY`: `Authorization: Bearer <ADMIN_KEY>`' },
          },
        },
        security: [{ apiKey: [] }],
        tags: [
          { name: 'datasets', description: 'What a dataset holds and how a record is identified' },
          { name: 'jobs', description: 'Uploads and the jobs that ingest them' },
          { name: 'records', description: 'What landed' },
          { name: 'operations', description: 'Probes and metrics' },
          { name: 'admin', description: 'Tenants and API keys, for the operator (ADMIN_KEY)' },
        ],
      },
      transform,
      transformObject: jsonSchemaTransformObject,
    });
    // The documentation is public: a browser cannot send a key, and it holds no tenant's data.
    await app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, auth: 'none' };
      });
      await scope.register(swaggerUi, { routePrefix: DOCS_PREFIX });
    });
  },
  { name: 'sluice-docs' },
);
