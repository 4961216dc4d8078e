import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { z } from 'zod';

/** The queue that carries every ingestion job: uploads, pushes and pull runs alike. */
export const INGEST_QUEUE = 'ingest';

/** What an ingestion job carries: ids only. The job row in PostgreSQL holds the rest. */
export const ingestPayloadSchema = z.object({
  jobId: z.uuid(),
  tenantId: z.uuid(),
  correlationId: z.string().max(200).optional(),
});

export type IngestPayload = z.infer<typeof ingestPayloadSchema>;

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * BullMQ options of an ingestion job. `jobId` is the job row's id, so enqueueing the same
 * job twice is a no-op. Retries back off exponentially with jitter; a finished job leaves
 * Redis (PostgreSQL keeps its story), a failed one stays for a day for inspection.
 */
export function ingestJobOptions(payload: IngestPayload, retry: RetryPolicy): JobsOptions {
  return {
    jobId: payload.jobId,
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 24 * 3600 },
  };
}

export function createIngestQueue(connection: ConnectionOptions, prefix: string): Queue<IngestPayload> {
  return new Queue<IngestPayload>(INGEST_QUEUE, { connection, prefix });
}

/**
 * Takes a job off the queue if it waits there (queued, delayed, failed). A job a worker is
 * running stays: the worker notices a cancellation at its next batch boundary.
 */
export async function dequeueIngest(queue: Queue<IngestPayload>, jobId: string): Promise<void> {
  const state = await queue.getJobState(jobId);
  if (state !== 'active' && state !== 'unknown') await queue.remove(jobId);
}

/** Puts a job on the queue, for a worker to take at once or after `delayMs`; resolves once Redis has it. */
export async function enqueueIngest(queue: Queue<IngestPayload>, payload: IngestPayload, retry: RetryPolicy, delayMs = 0): Promise<void> {
  await queue.add('ingest', ingestPayloadSchema.parse(payload), { ...ingestJobOptions(payload, retry), delay: delayMs });
}
