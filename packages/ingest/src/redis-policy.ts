import { AppError } from '@sluice/errors';
import type { Redis } from 'ioredis';

/**
 * BullMQ keeps its queues in Redis keys; a Redis that evicts keys under memory pressure
 * silently loses jobs. Refuse to start on one. Managed services that disable CONFIG
 * (ElastiCache) are let through with `unknown`: their policy is set in their parameter group.
 */
export async function assertNoEviction(redis: Redis): Promise<'noeviction' | 'unknown'> {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch {
    return 'unknown';
  }
  if (policy !== 'noeviction') {
    throw new AppError('unavailable', `Redis maxmemory-policy is "${policy}"; BullMQ needs "noeviction" (CONFIG SET maxmemory-policy noeviction)`);
  }
  return 'noeviction';
}
