import type { Config } from '@sluice/config';
import { AppError } from '@sluice/errors';
import type { RunOutcome } from '@sluice/metrics';
import { INGEST_QUEUE, ingestPayloadSchema, type IngestPayload } from '@sluice/queue';
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { runIngestJob, type IngestDeps } from './run-ingest-job.js';

/** A worker's settings as configured: `{ connection, ...workerSettings(config) }`. */
export function workerSettings(config: Pick<Config, 'queuePrefix' | 'worker'>): Omit<IngestWorkerOptions, 'connection'> {
  const { concurrency, lockMs, stalledIntervalMs, maxStalled } = config.worker;
  return { prefix: config.queuePrefix, concurrency, lockMs, stalledIntervalMs, maxStalled };
}

export interface IngestWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  lockMs: number;
  stalledIntervalMs: number;
  maxStalled: number;
}

export interface IngestWorker {
  worker: Worker<IngestPayload>;
  /**
   * Stops taking jobs, asks running ones to stop at their next batch boundary (they are
   * handed back to the queue without spending an attempt), and waits for them.
   */
  close(): Promise<void>;
}

/**
 * The BullMQ worker of the ingest queue. It validates each payload before acting on it,
 * turns a permanent failure into BullMQ's `UnrecoverableError`, and keeps going while
 * Redis comes and goes.
 */
export function createIngestWorker(deps: IngestDeps, options: IngestWorkerOptions): IngestWorker {
  const running = new Set<AbortController>();
  const log = deps.logger;

  const processor = async (job: Job<IngestPayload>, token?: string): Promise<void> => {
    const parsed = ingestPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.message}`);
    const controller = new AbortController();
    running.add(controller);
    const ended = deps.metrics?.runStarted();
    let outcome: RunOutcome = 'error';
    try {
      const result = await runIngestJob(deps, parsed.data, {
        signal: controller.signal,
        lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        onProgress: (progress) => {
          job.updateProgress(Math.round(progress * 1000) / 1000).catch(() => undefined);
        },
      });
      outcome = result;
      if (result === 'failed') throw new UnrecoverableError('the job failed on its data; see the job for the reason');
      if (result === 'interrupted') {
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
    } finally {
      running.delete(controller);
      ended?.(outcome);
    }
  };

  const worker = new Worker<IngestPayload>(INGEST_QUEUE, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // A job's lock is renewed on a timer, whatever its batches cost; a worker that dies or
    // freezes loses it after lockDuration, and the job is picked up again at the next stall
    // check. Resuming from the checkpoint makes a stall harmless, so several are tolerated.
    lockDuration: options.lockMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalled,
    autorun: false,
  });
  worker.on('error', (error) => log.error('worker error', { error: error.message }));
  worker.on('failed', (job, error) => {
    if (job !== undefined && !(error instanceof DelayedError)) {
      log.warn('queue job failed', { jobId: job.id, attemptsMade: job.attemptsMade, error: error.message });
    }
  });

  return {
    worker,
    close: async () => {
      const closing = worker.close();
      for (const controller of running) controller.abort(new AppError('unavailable', 'worker is shutting down'));
      await closing;
    },
  };
}
