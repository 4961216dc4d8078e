import { loadConfig } from '@sluice/config';
import { assertSchemaCurrent } from '@sluice/db';
import { assertNoEviction, createIngestWorker, createSourceTickWorker, reconcileJobs, workerSettings } from '@sluice/ingest';
import { createDeps } from '@sluice/runtime';

const config = loadConfig(process.env);
const deps = createDeps(config, 'worker');
const { logger } = deps;
const retry = { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs };

try {
  await assertSchemaCurrent(deps.database.db);
  await assertNoEviction(deps.redis);
  const ingest = createIngestWorker(
    { db: deps.database.db, pool: deps.database.pool, storage: deps.storage, logger, batch: config.batch, pull: config.pull },
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
    await Promise.all([ingest.close(), ticks.close()]);
    await deps.close();
    logger.info('worker stopped');
  };
  process.once('SIGTERM', (s) => void stop(s));
  process.once('SIGINT', (s) => void stop(s));
  // Started by `npm start`: stop with the supervisor, however it ended.
  if (process.channel !== undefined) {
    process.channel.unref();
    process.once('disconnect', () => void stop('supervisor gone'));
  }
  logger.info('worker started', { concurrency: config.worker.concurrency, queue: config.queuePrefix });
  await Promise.all([ingest.worker.run(), ticks.worker.run()]);
} catch (error) {
  logger.error('worker failed to start', { error: (error as Error).message });
  await deps.close();
  process.exitCode = 1;
}
