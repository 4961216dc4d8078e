import { failJob, type DB } from '@sluice/db';
import type { Logger } from '@sluice/logging';
import { enqueueIngest, type IngestPayload, type RetryPolicy } from '@sluice/queue';
import type { Queue } from 'bullmq';
import { sql, type Kysely } from 'kysely';

/**
 * Finds jobs that PostgreSQL says are open but Redis does not hold (Redis lost its data, an
 * enqueue failed after the row was written, a worker died with the job's queue entry gone)
 * and queues them again; marks failed those that BullMQ gave up on without a word to the row.
 *
 * Safe to run in every worker at once: `jobId` is the row's id, so a second enqueue of the
 * same job is a no-op, and a run that finds its job already finished stops at once.
 * Returns how many jobs it queued again.
 */
export async function reconcileJobs(db: Kysely<DB>, queue: Queue<IngestPayload>, retry: RetryPolicy, logger: Logger, idleMs: number): Promise<number> {
  const open = await db
    .selectFrom('ingestion_jobs')
    .select(['id', 'tenant_id', 'correlation_id', 'status'])
    .where('status', 'in', ['queued', 'processing'])
    .where('updated_at', '<', sql<Date>`now() - make_interval(secs => ${idleMs / 1000})`)
    .orderBy('updated_at')
    .limit(500)
    .execute();
  let requeued = 0;
  for (const job of open) {
    const state = await queue.getJobState(job.id);
    if (state === 'unknown') {
      await enqueueIngest(queue, { jobId: job.id, tenantId: job.tenant_id, ...(job.correlation_id ? { correlationId: job.correlation_id } : {}) }, retry);
      logger.warn('reconciler queued a job that Redis did not have', { jobId: job.id, status: job.status });
      requeued++;
    } else if (state === 'failed') {
      const failed = await queue.getJob(job.id);
      await failJob(db, job.tenant_id, job.id, { code: 'internal', message: failed?.failedReason ?? 'the queue gave up on this job' }, true);
      logger.error('reconciler marked failed a job the queue gave up on', { jobId: job.id });
    }
  }
  return requeued;
}
