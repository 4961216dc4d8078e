import { loadConfig } from '@sluice/config';
import { assertSchemaCurrent } from '@sluice/db';
import {
  assertNoEviction,
  createIngestWorker,
  createSourceTickWorker,
  reconcileJobs,
  startQueueDepthPublisher,
  workerSettings,
} from '@sluice/ingest';
import { createMetricsRegistry, IngestMetrics, serveMetrics } from '@sluice/metrics';
import { createDeps } from '@sluice/runtime';

const config = loadConfig(process.env);
const deps = createDeps(config, 'worker');
const { logger } = deps;
const retry = { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs };

try {
  await assertSchemaCurrent(deps.database.db);
  await assertNoEviction(deps.redis);
  const registry = createMetricsRegistry('sluice-worker');
  const metrics = new IngestMetrics(registry, { concurrency: config.worker.concurrency });
  // Metrics are for watching the work, not a reason to refuse it: a port already taken (a
  // second worker on one host) costs this worker its listener, loudly, not its start.
  const metricsServer = await serveMetrics(registry, { host: config.http.host, port: config.metrics.port }).catch((error: Error) => {
    logger.error('metrics listener failed to start; this worker runs without /metrics', {
      port: config.metrics.port,
      error: error.message,
    });
    return undefined;
  });
  const ingest = createIngestWorker(
    {
      db: deps.database.db,
      pool: deps.database.pool,
      storage: deps.storage,
      logger,
      batch: config.batch,
      files: config.files,
      pull: config.pull,
      metrics,
    },
    { connection: deps.redis, ...workerSettings(config) },
  );
  const ticks = createSourceTickWorker(
    { db: deps.database.db, queue: deps.queue, sourceQueue: deps.sourceQueue, retry, logger },
    { connection: deps.redis, prefix: config.queuePrefix },
  );
  const reconcile = () =>
    reconcileJobs(deps.database.db, deps.queue, retry, logger, config.worker.reconcileIdleMs).catch((error: Error) =>
      logger.warn('reconciler run failed', { error: error.message }),
    );
  const reconciler = setInterval(() => void reconcile(), config.worker.reconcileIntervalMs);
  void reconcile();
  // The ingest queue's depth for the ECS scaling policy; off unless QUEUE_METRICS_NAMESPACE is set.
  const queueMetrics = config.queueMetrics;
  const depthPublisher =
    queueMetrics === null
      ? undefined
      : startQueueDepthPublisher(
          {
            queue: deps.queue,
            // Loaded only when publishing: the SDK would otherwise sit in every worker's heap.
            cloudwatch: new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(
              queueMetrics.endpoint === undefined ? {} : { endpoint: queueMetrics.endpoint },
            ),
            logger,
          },
          queueMetrics,
        );

  // Both loops run from here; a stop waits for them to return before it closes the
  // connections under them, however soon after the start it comes.
  const running = Promise.all([ingest.worker.run(), ticks.worker.run()]);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('worker stopping: finishing the batches in hand', { signal, graceMs: config.worker.shutdownGraceMs });
    clearInterval(reconciler);
    setTimeout(() => {
      logger.error('worker did not stop within the grace period; exiting (uncommitted batches roll back)');
      process.exit(1);
    }, config.worker.shutdownGraceMs).unref();
    depthPublisher?.stop();
    await Promise.all([ingest.close(), ticks.close()]);
    await running.catch(() => undefined);
    await metricsServer?.close();
    await deps.close();
    logger.info('worker stopped');
    // Everything is closed; a BullMQ connection opened by a loop stopped while it was still
    // starting can linger and keep the process up until the grace timer, so end it here.
    process.exit(0);
  };
  process.once('SIGTERM', (s) => void stop(s));
  process.once('SIGINT', (s) => void stop(s));
  // Started by `npm start`: stop with the supervisor, however it ended.
  if (process.channel !== undefined) {
    process.channel.unref();
    process.once('disconnect', () => void stop('supervisor gone'));
  }
  logger.info('worker started', {
    concurrency: config.worker.concurrency,
    queue: config.queuePrefix,
    queueMetrics: queueMetrics?.namespace ?? 'off',
    metricsPort: metricsServer?.port ?? null,
  });
  // A loop stopped while it was still starting rejects ("Connection is closed"): that is the stop, not a failure.
  await running.catch((error: unknown) => {
    if (!stopping) throw error;
  });
} catch (error) {
  logger.error('worker failed to start', { error: (error as Error).message });
  await deps.close();
  process.exitCode = 1;
}
