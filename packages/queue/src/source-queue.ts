import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';

/** The queue of source ticks: each tick starts one pull run (an ingestion job) of a source. */
export const SOURCE_RUNS_QUEUE = 'source-runs';

/** What a tick carries: the source to run, by id. The source's row holds the rest. */
export const sourceTickSchema = z.object({
  sourceId: z.uuid(),
  tenantId: z.uuid(),
});

export type SourceTick = z.infer<typeof sourceTickSchema>;

/** When a source runs by itself: every so many milliseconds, or on a cron pattern (UTC). */
export type SourceSchedule = { everyMs: number } | { cron: string };

export function createSourceQueue(connection: ConnectionOptions, prefix: string): Queue<SourceTick> {
  return new Queue<SourceTick>(SOURCE_RUNS_QUEUE, { connection, prefix });
}

const schedulerId = (sourceId: string) => `source:${sourceId}`;

/**
 * Creates or replaces a source's BullMQ job scheduler. The scheduler's id is the source's,
 * so however many API or worker processes call this, a source has one schedule. Rejects
 * when BullMQ refuses the pattern.
 */
export async function upsertSourceSchedule(queue: Queue<SourceTick>, tick: SourceTick, schedule: SourceSchedule): Promise<void> {
  const repeat = 'everyMs' in schedule ? { every: schedule.everyMs } : { pattern: schedule.cron, tz: 'UTC' };
  await queue.upsertJobScheduler(schedulerId(tick.sourceId), repeat, {
    name: 'tick',
    data: sourceTickSchema.parse(tick),
    opts: { removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
  });
}

/** Removes a source's schedule; removing one that is not there is not an error. */
export async function removeSourceSchedule(queue: Queue<SourceTick>, sourceId: string): Promise<void> {
  await queue.removeJobScheduler(schedulerId(sourceId));
}

/** The next time a source's schedule fires, if it has one. */
export async function nextSourceRun(queue: Queue<SourceTick>, sourceId: string): Promise<Date | null> {
  const scheduler = await queue.getJobScheduler(schedulerId(sourceId));
  return scheduler?.next === undefined ? null : new Date(scheduler.next);
}
