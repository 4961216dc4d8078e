import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '@sluice/config';
import { AppError } from '@sluice/errors';
import { PushBatcher } from '@sluice/ingest';
import { toFastifyLogger } from '@sluice/logging';
import { createApiMetrics, createMetricsRegistry } from '@sluice/metrics';
import { JobEvents, type RetryPolicy } from '@sluice/queue';
import type { Deps } from '@sluice/runtime';
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { JobWatchers } from './job-watchers.js';
import { SharedCounters } from './rate-limit-store.js';
import { adminPlugin, QUEUE_DASHBOARD_PREFIX } from './plugins/admin.plugin.js';
import { authPlugin } from './plugins/auth.plugin.js';
import { docsPlugin } from './plugins/docs.plugin.js';
import { errorsPlugin } from './plugins/errors.plugin.js';
import { metricsPlugin } from './plugins/metrics.plugin.js';
import { adminRoutes } from './routes/admin.route.js';
import { datasetRoutes } from './routes/datasets.route.js';
import { healthRoutes } from './routes/health.route.js';
import { jobEventRoutes } from './routes/job-events.route.js';
import { jobRoutes } from './routes/jobs.route.js';
import { pushRoutes } from './routes/push.route.js';
import { recordRoutes } from './routes/records.route.js';
import { sourceRoutes } from './routes/sources.route.js';
import { statsRoutes } from './routes/stats.route.js';
import { uploadRoutes } from './routes/upload.route.js';

/** What the routes use of the process's dependencies. */
export type AppDeps = Pick<Deps, 'database' | 'redis' | 'queue' | 'sourceQueue' | 'storage' | 'logger'> & {
  config: Pick<Config, 'http' | 'upload' | 'queuePrefix' | 'admin' | 'events' | 'rateLimit' | 'push'>;
  retry: RetryPolicy;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the HTTP API without listening, so tests can `inject` requests. A request's id
 * comes from `X-Request-Id` when it is sane, is echoed on the response, and follows the
 * request's job into the worker's logs. `onRoute` hears every route as it is added.
 */
export async function buildApp(deps: AppDeps, options: { onRoute?: (route: RouteOptions) => void } = {}): Promise<FastifyInstance> {
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
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Each app its own registry: in production one per process, in tests one per stack.
  const registry = createMetricsRegistry('sluice-api');
  const metrics = createApiMetrics(registry);
  const jobEvents = new JobEvents(deps.redis.options, deps.config.queuePrefix, (error) =>
    app.log.warn({ err: error }, 'job events: redis stream read failed'),
  );
  app.addHook('onClose', async () => jobEvents.close());

  await app.register(errorsPlugin);
  await app.register(authPlugin, { database: deps.database, adminKey: deps.config.admin.key });
  // Per API key (per client address until a key is known); every API process adds its
  // counts to Redis every 50 ms and so learns the others' (see SharedCounters). If Redis
  // does not answer, each process counts alone.
  const counters = new SharedCounters(deps.redis, {
    prefix: 'sluice:ratelimit:',
    syncMs: 50,
    onError: (error) => app.log.warn({ err: error }, 'rate limit: counts could not reach redis; counting in this process alone'),
  });
  app.addHook('onClose', async () => counters.close());
  await app.register(rateLimit, {
    max: deps.config.rateLimit.max,
    timeWindow: deps.config.rateLimit.windowMs,
    store: counters.rateLimitStore(),
    keyGenerator: (request) => request.apiKeyId ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'rate_limited',
        `too many requests: at most ${context.max} per ${deps.config.rateLimit.windowMs / 1000} s; retry in ${context.after}`,
        {
          details: { limit: context.max, retryAfterSeconds: Math.ceil(context.ttl / 1000) },
        },
      ),
  });
  await app.register(docsPlugin);
  await app.register(metricsPlugin, { registry, metrics, queue: deps.queue });
  await app.register(multipart, {
    // One file, the dataset and format, and the nine read options; short values; few headers.
    limits: { fileSize: deps.config.upload.maxBytes, files: 1, fields: 11, fieldSize: 1024, parts: 12, headerPairs: 100 },
  });

  await app.register(healthRoutes, deps);
  await app.register(adminRoutes, deps);
  await app.register(datasetRoutes);
  await app.register(uploadRoutes, deps);
  await app.register(jobRoutes, deps);
  const watchers = new JobWatchers(jobEvents, deps.config.events.heartbeatMs, (error, jobId) =>
    app.log.warn({ err: error, jobId }, 'job events: reading the job failed'),
  );
  await app.register(jobEventRoutes, { watchers, metrics });
  await app.register(recordRoutes);

  // Pushes accepted before a shutdown are flushed by it: their 202 promised they are durable.
  const pushBatcher = new PushBatcher(
    { db: deps.database.db, storage: deps.storage, queue: deps.queue, retry: deps.retry, logger: deps.logger },
    { lingerMs: deps.config.push.lingerMs, quietMs: deps.config.push.quietMs, maxRecords: deps.config.push.batchRecords, maxInFlight: deps.config.push.flushes, jobDelayMs: deps.config.push.jobDelayMs },
  );
  app.addHook('preClose', () => pushBatcher.close());
  await app.register(pushRoutes, { pushBatcher, config: deps.config });
  await app.register(sourceRoutes, deps);
  await app.register(statsRoutes);
  const adminKey = deps.config.admin.key;
  if (adminKey !== null) await app.register(adminPlugin, { prefix: QUEUE_DASHBOARD_PREFIX, adminKey, queue: deps.queue });
  return app;
}
