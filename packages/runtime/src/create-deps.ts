import type { Config } from '@sluice/config';
import { createDatabase, type Database } from '@sluice/db';
import { createLogger, type Logger } from '@sluice/logging';
import { createIngestQueue, createRedis, createSourceQueue, type IngestPayload, type SourceTick } from '@sluice/queue';
import { DiskStorage, openS3Storage, type Storage } from '@sluice/storage';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Everything a Sluice process shares, built once from config in `main`. */
export interface Deps {
  config: Config;
  logger: Logger;
  database: Database;
  redis: Redis;
  queue: Queue<IngestPayload>;
  /** Source ticks: each source's schedule is a job scheduler on this queue. */
  sourceQueue: Queue<SourceTick>;
  storage: Storage;
  /** Closes what this built, in reverse order of need. */
  close(): Promise<void>;
}

/** The storage adapter the config names, and how to let go of its connections. */
function createStorage(config: Config['storage']): { storage: Storage; closeStorage: () => Promise<void> } {
  if (config.kind === 'disk') return { storage: new DiskStorage(config.dir), closeStorage: async () => undefined };
  const { storage, close } = openS3Storage(config);
  return { storage, closeStorage: close };
}

/**
 * The composition root. `role` picks the Redis connection's behaviour: a worker waits for
 * Redis through outages; the API fails fast so a request gets a 503 rather than hanging.
 */
export function createDeps(config: Config, role: 'api' | 'worker', logger?: Logger): Deps {
  const log = logger ?? createLogger({ level: config.logLevel, service: `sluice-${role}` });
  // A worker frozen inside a batch's transaction (a paused VM, a long GC pause) would keep
  // the job row locked and the job stuck; PostgreSQL ends such a session well before the
  // job's lock expires, so whoever takes the job over finds it free.
  const database = createDatabase({
    url: config.databaseUrl,
    poolMax: config.databasePoolMax,
    applicationName: `sluice-${role}`,
    role: config.databaseRole,
    ...(role === 'worker' ? { idleInTransactionMs: Math.floor(config.worker.lockMs / 2) } : {}),
  });
  let redisDown = false;
  const redis = createRedis(config.redisUrl, role === 'api' ? 'producer' : 'worker', (error) => {
    if (!redisDown) log.warn('redis connection error', { error: error.message });
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) log.info('redis connection restored');
    redisDown = false;
  });
  const queue = createIngestQueue(redis, config.queuePrefix);
  queue.on('error', () => undefined); // reported once by the connection's own listener
  const sourceQueue = createSourceQueue(redis, config.queuePrefix);
  sourceQueue.on('error', () => undefined);
  const { storage, closeStorage } = createStorage(config.storage);
  return {
    config,
    logger: log,
    database,
    redis,
    queue,
    sourceQueue,
    storage,
    close: async () => {
      await sourceQueue.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await database.close();
      await closeStorage().catch(() => undefined);
    },
  };
}
