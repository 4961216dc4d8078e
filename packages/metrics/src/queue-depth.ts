import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/** The BullMQ states counted; `completed` is left out because finished jobs leave Redis. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'paused', 'waiting-children'] as const;

/**
 * `sluice_queue_jobs{queue, state}`: how many jobs the queue holds in each state, asked of
 * Redis at each scrape. When Redis does not answer the scrape still succeeds, without these
 * series, and `onError` hears why.
 */
export function registerQueueDepth(
  registry: Registry,
  queues: readonly Queue[],
  onError: (error: Error) => void,
): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: 'sluice_queue_jobs',
    help: 'Jobs in the queue by state, read from Redis at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (queue) => {
          try {
            const counts = await queue.getJobCounts(...QUEUE_STATES);
            for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          } catch (error) {
            onError(error as Error);
          }
        }),
      );
    },
  });
}
