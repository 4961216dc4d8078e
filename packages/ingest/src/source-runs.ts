import { findJob, findOpenRun, findSource, insertPullRun, isUniqueViolation, withTenant, type DB, type JobView } from '@sluice/db';
import type { Logger } from '@sluice/logging';
import {
  enqueueIngest,
  removeSourceSchedule,
  sourceTickSchema,
  SOURCE_RUNS_QUEUE,
  type IngestPayload,
  type RetryPolicy,
  type SourceTick,
} from '@sluice/queue';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';

/** Runs `fn` in a transaction scoped to the caller's tenant (`request.withTenant`, or `withTenant`). */
export type InTenant = <T>(fn: (trx: Kysely<DB>) => Promise<T>) => Promise<T>;

export type StartedRun =
  { started: true; job: JobView } | { started: false; reason: 'open'; jobId: string } | { started: false; reason: 'missing' };

/**
 * Starts a run of a source: records it as a queued `pull` job and queues it. A source runs
 * once at a time: while a run is open, this starts none and names the open one. If
 * queueing fails, the job row stands and the reconciler queues it.
 */
export async function startSourceRun(
  inTenant: InTenant,
  deps: { queue: Queue<IngestPayload>; retry: RetryPolicy; logger: Logger },
  tenantId: string,
  sourceId: string,
  correlationId: string,
): Promise<StartedRun> {
  const jobId = randomUUID();
  const open = async (): Promise<StartedRun> => {
    const id = await inTenant((trx) => findOpenRun(trx, tenantId, sourceId));
    return id === undefined ? { started: false, reason: 'missing' } : { started: false, reason: 'open', jobId: id };
  };
  let job: JobView | undefined;
  try {
    const result = await inTenant(async (trx): Promise<StartedRun | JobView> => {
      const source = await findSource(trx, tenantId, sourceId);
      if (source === undefined) return { started: false, reason: 'missing' };
      const running = await findOpenRun(trx, tenantId, sourceId);
      if (running !== undefined) return { started: false, reason: 'open', jobId: running };
      await insertPullRun(trx, source, jobId, correlationId);
      return (await findJob(trx, tenantId, jobId))!;
    });
    if ('started' in result) return result;
    job = result;
  } catch (error) {
    // Two starts raced past the check: the unique index let one through.
    if (isUniqueViolation(error)) return open();
    throw error;
  }
  try {
    await enqueueIngest(deps.queue, { jobId, tenantId, correlationId }, deps.retry);
  } catch (error) {
    deps.logger.warn('enqueue of a source run failed; the reconciler will queue it', { jobId, sourceId, error: (error as Error).message });
  }
  return { started: true, job };
}

export interface SourceTickWorker {
  worker: Worker<SourceTick>;
  close(): Promise<void>;
}

/**
 * The worker of source ticks: each tick of a source's schedule starts a run, unless one is
 * still open (the tick is skipped, not queued up). A tick for a source that is gone
 * removes its schedule.
 */
export function createSourceTickWorker(
  deps: { db: Kysely<DB>; queue: Queue<IngestPayload>; sourceQueue: Queue<SourceTick>; retry: RetryPolicy; logger: Logger },
  options: { connection: ConnectionOptions; prefix: string },
): SourceTickWorker {
  const log = deps.logger;
  const processor = async (job: Job<SourceTick>) => {
    const parsed = sourceTickSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.message}`);
    const { tenantId, sourceId } = parsed.data;
    const inTenant: InTenant = (fn) => withTenant(deps.db, tenantId, fn);
    const result = await startSourceRun(inTenant, deps, tenantId, sourceId, `schedule:${job.id ?? sourceId}`);
    if (result.started) log.info('scheduled source run started', { sourceId, jobId: result.job.id });
    else if (result.reason === 'open')
      log.info('scheduled source run skipped: the previous run is still open', { sourceId, jobId: result.jobId });
    else {
      await removeSourceSchedule(deps.sourceQueue, sourceId);
      log.warn('schedule of a deleted source removed', { sourceId });
    }
  };
  const worker = new Worker<SourceTick>(SOURCE_RUNS_QUEUE, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: 4,
    autorun: false,
  });
  worker.on('error', (error) => log.error('source tick worker error', { error: error.message }));
  return { worker, close: () => worker.close() };
}
