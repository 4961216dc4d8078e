import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Queue } from 'bullmq';

/**
 * The metrics the worker publishes for a queue, in its namespace, with the dimension
 * `Queue=<prefix>:<name>` (e.g. `sluice:ingest`): what the ECS scaling policy reads.
 */
export const QUEUE_DEPTH_METRICS = { waiting: 'Waiting', active: 'Active', delayed: 'Delayed' } as const;

/** A queue's jobs by state: ready and unclaimed (priority ones too), running, waiting out a delay or backoff. */
export type QueueDepth = Record<keyof typeof QUEUE_DEPTH_METRICS, number>;

/** Reads how many jobs a queue holds in each state that matters for scaling. */
export async function readQueueDepth(queue: Queue): Promise<QueueDepth> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
  };
}

/** Reads a queue's depth and puts it to CloudWatch as one PutMetricData call; returns what it sent. */
export async function publishQueueDepth(
  queue: Queue,
  cloudwatch: CloudWatchClient,
  namespace: string,
  at: Date = new Date(),
): Promise<QueueDepth> {
  // Imported here, not at the top: only a worker that publishes should carry the SDK.
  const { PutMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  const depth = await readQueueDepth(queue);
  const dimensions = [{ Name: 'Queue', Value: queue.qualifiedName }];
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: namespace,
      MetricData: (Object.keys(QUEUE_DEPTH_METRICS) as (keyof QueueDepth)[]).map((state) => ({
        MetricName: QUEUE_DEPTH_METRICS[state],
        Dimensions: dimensions,
        Value: depth[state],
        Unit: 'Count',
        Timestamp: at,
      })),
    }),
  );
  return depth;
}

/** What the publisher logs through (a winston logger is one). */
export interface PublisherLog {
  info(message: string, meta: Record<string, unknown>): unknown;
  warn(message: string, meta: Record<string, unknown>): unknown;
}

export interface QueueDepthPublisher {
  /**
   * Stops publishing and closes the client's connections. It does not wait for a
   * publication in flight: one stuck on an unreachable Redis or CloudWatch must not hold up
   * the worker's shutdown; it ends, unlogged, with its connection.
   */
  stop(): void;
}

/**
 * Publishes a queue's depth now and every `intervalMs` until stopped.
 *
 * Design: one publication at a time (a slow CloudWatch or Redis never piles calls up); a
 * failure is logged once per outage and the next tick tries again, since a missed data
 * point only delays scaling. Every worker publishes the same queue-wide figures; the alarms read their
 * Maximum, so several publishers agree rather than add up.
 */
export function startQueueDepthPublisher(
  deps: { queue: Queue; cloudwatch: CloudWatchClient; logger: PublisherLog },
  options: { namespace: string; intervalMs: number },
): QueueDepthPublisher {
  const { queue, cloudwatch, logger } = deps;
  let failing = false;
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const tick = () => {
    inFlight ??= publishQueueDepth(queue, cloudwatch, options.namespace)
      .then(() => {
        if (failing && !stopped) logger.info('queue depth published again', { namespace: options.namespace });
        failing = false;
      })
      .catch((error: Error) => {
        if (!failing && !stopped)
          logger.warn('could not publish the queue depth; retrying every interval', { namespace: options.namespace, error: error.message });
        failing = true;
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  tick();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      cloudwatch.destroy();
    },
  };
}
