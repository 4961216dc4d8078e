import multipart from '@fastify/multipart';
import type { Config } from '@sluice/config';
import { PushBatcher } from '@sluice/ingest';
import { toFastifyLogger } from '@sluice/logging';
import type { RetryPolicy } from '@sluice/queue';
import type { Deps } from '@sluice/runtime';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { errorsPlugin } from './plugins/errors.plugin.js';
import { tenantPlugin } from './plugins/tenant.plugin.js';
import { datasetRoutes } from './routes/datasets.route.js';
import { healthRoutes } from './routes/health.route.js';
import { jobRoutes } from './routes/jobs.route.js';
import { pushRoutes } from './routes/push.route.js';
import { recordRoutes } from './routes/records.route.js';
import { sourceRoutes } from './routes/sources.route.js';
import { statsRoutes } from './routes/stats.route.js';
import { uploadRoutes } from './routes/upload.route.js';

/** What the routes use of the process's dependencies. */
export type AppDeps = Pick<Deps, 'database' | 'redis' | 'queue' | 'sourceQueue' | 'storage' | 'logger'> & {
  config: Pick<Config, 'http' | 'upload' | 'push'>;
  retry: RetryPolicy;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the HTTP API without listening, so tests can `inject` requests. A request's id
 * comes from `X-Request-Id` when it is sane, is echoed on the response, and follows the
 * request's job into the worker's logs.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: toFastifyLogger(deps.logger),
    logController: new LogController({ disableRequestLogging: !deps.config.http.logRequests }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(errorsPlugin);
  await app.register(tenantPlugin, deps);
  await app.register(multipart, {
    limits: { fileSize: deps.config.upload.maxBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 100 },
  });

  await app.register(healthRoutes, deps);
  await app.register(datasetRoutes);
  await app.register(uploadRoutes, deps);
  await app.register(jobRoutes, deps);
  await app.register(recordRoutes);

  // Pushes accepted before a shutdown are flushed by it: their 202 promised they are durable.
  const pushBatcher = new PushBatcher(
    { db: deps.database.db, storage: deps.storage, queue: deps.queue, retry: deps.retry, logger: deps.logger },
    { lingerMs: deps.config.push.lingerMs, maxRecords: deps.config.push.batchRecords, maxInFlight: deps.config.push.flushes },
  );
  app.addHook('preClose', () => pushBatcher.close());
  await app.register(pushRoutes, { pushBatcher, config: deps.config });
  await app.register(sourceRoutes, deps);
  await app.register(statsRoutes);
  return app;
}
