import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis connection for BullMQ. Workers block on Redis, so their connections must not
 * give up on a command (`maxRetriesPerRequest: null`); producers in a request path should
 * fail fast instead (`offlineQueue: false`), and their callers answer 503.
 */
export function createRedis(url: string, role: 'worker' | 'producer', onError: (error: Error) => void): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 };
  const redis = new Redis(url, { ...options, retryStrategy: (times) => Math.min(times * 200, 5_000) });
  redis.on('error', onError);
  return redis;
}
