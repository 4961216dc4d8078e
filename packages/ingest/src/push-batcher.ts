import { findJob, insertJob, withTenant, type DB, type JobView } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { Logger } from '@sluice/logging';
import { enqueueIngest, type IngestPayload, type RetryPolicy } from '@sluice/queue';
import type { Storage } from '@sluice/storage';
import type { Queue } from 'bullmq';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

export interface PushBatcherDeps {
  db: Kysely<DB>;
  storage: Storage;
  queue: Queue<IngestPayload>;
  retry: RetryPolicy;
  logger: Logger;
}

export interface PushBatcherOptions {
  /** How long a batch stays open for more pushes after its first one (and after the previous flush). */
  lingerMs: number;
  /** A batch is flushed at once when it holds this many records. */
  maxRecords: number;
}

/** Where a push landed: its batch's job, and which of the job's rows are its records. */
export interface PushReceipt {
  job: JobView;
  records: number;
  firstRow: number;
  lastRow: number;
}

interface Waiter {
  records: number;
  firstRow: number;
  resolve: (receipt: PushReceipt) => void;
  reject: (error: unknown) => void;
}

interface OpenBatch {
  tenantId: string;
  datasetId: string;
  lines: string[];
  waiters: Waiter[];
  correlationId: string;
  openedAt: number;
  timer: NodeJS.Timeout | undefined;
}

interface Lane {
  open: OpenBatch | undefined;
  /** The flush in progress, if any: the next one waits for it (group commit). */
  flushing: Promise<void> | undefined;
}

/**
 * Coalesces pushes into short-lived batches: per tenant and dataset, the records of every
 * push that arrives while a batch is open go into one NDJSON blob and one ingestion job
 * (kind `push`), which then takes the same path as an upload.
 *
 * Design: a push's promise resolves only once its batch is durable (the blob fsynced, the
 * job row committed), so a 202 means the record will land exactly once, whatever dies
 * afterwards; queueing the job may still fail, and the reconciler queues it then. Flushes
 * of one lane run one at a time and a batch opens while the previous one flushes, so under
 * load each flush takes everything that arrived during the last one (group commit): the
 * number of jobs follows the flush rate, not the request rate. One push is never split:
 * its records are consecutive rows of one job. `close` flushes what is open and refuses
 * new pushes, so a SIGTERM loses nothing that was accepted.
 */
export class PushBatcher {
  private readonly lanes = new Map<string, Lane>();
  private closed = false;

  constructor(
    private readonly deps: PushBatcherDeps,
    private readonly options: PushBatcherOptions,
  ) {}

  /** Adds one push (its records as NDJSON lines) to its lane's open batch; resolves when that batch is durable. */
  push(target: { tenantId: string; datasetId: string }, lines: string[], correlationId: string): Promise<PushReceipt> {
    if (this.closed) return Promise.reject(new AppError('unavailable', 'the server is shutting down; push again'));
    const key = `${target.tenantId}/${target.datasetId}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { open: undefined, flushing: undefined };
      this.lanes.set(key, lane);
    }
    if (lane.open === undefined) {
      lane.open = { ...target, lines: [], waiters: [], correlationId, openedAt: performance.now(), timer: undefined };
    }
    const batch = lane.open;
    const promise = new Promise<PushReceipt>((resolve, reject) => {
      batch.waiters.push({ records: lines.length, firstRow: batch.lines.length + 1, resolve, reject });
    });
    for (const line of lines) batch.lines.push(line);
    if (batch.lines.length >= this.options.maxRecords) this.seal(key, lane);
    else if (batch.timer === undefined && lane.flushing === undefined) this.arm(key, lane, batch);
    return promise;
  }

  /** Flushes every open batch and waits for every flush; later pushes are refused with 503. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [key, lane] of this.lanes) if (lane.open !== undefined) this.seal(key, lane);
    while ([...this.lanes.values()].some((l) => l.flushing !== undefined || l.open !== undefined)) {
      await Promise.all([...this.lanes.values()].map((l) => l.flushing ?? Promise.resolve()));
    }
  }

  /** Seals the batch once it has been open for the linger time. */
  private arm(key: string, lane: Lane, batch: OpenBatch) {
    const due = this.options.lingerMs - (performance.now() - batch.openedAt);
    if (due <= 0) {
      this.seal(key, lane);
      return;
    }
    batch.timer = setTimeout(() => {
      batch.timer = undefined;
      if (lane.open === batch) this.seal(key, lane);
    }, due);
  }

  /** Takes the lane's open batch and flushes it after the flush in progress. */
  private seal(key: string, lane: Lane) {
    const batch = lane.open;
    if (batch === undefined) return;
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    batch.timer = undefined;
    lane.open = undefined;
    const previous = lane.flushing ?? Promise.resolve();
    const flushing = previous.then(() => this.flush(batch));
    lane.flushing = flushing;
    void flushing.then(() => {
      if (lane.flushing !== flushing) return;
      lane.flushing = undefined;
      const next = lane.open;
      // What arrived during the flush goes next: at once if it is due, else after its linger.
      if (next !== undefined) {
        if (this.closed || next.lines.length >= this.options.maxRecords) this.seal(key, lane);
        else this.arm(key, lane, next);
      } else {
        this.lanes.delete(key);
      }
    });
  }

  /** Stores the batch as one NDJSON blob and records its job; never rejects (its waiters do). */
  private async flush(batch: OpenBatch): Promise<void> {
    const { db, storage, queue, retry, logger } = this.deps;
    const jobId = randomUUID();
    const storageKey = `${batch.tenantId}/${jobId}`;
    let stored = false;
    try {
      const blob = Buffer.from(`${batch.lines.join('\n')}\n`, 'utf8');
      const object = await storage.write(storageKey, Readable.from([blob]));
      stored = true;
      const job = await withTenant(db, batch.tenantId, async (trx) => {
        await insertJob(trx, {
          id: jobId,
          tenant_id: batch.tenantId,
          dataset_id: batch.datasetId,
          kind: 'push',
          status: 'queued',
          format: 'ndjson',
          options: JSON.stringify({ pushes: batch.waiters.length }),
          file_name: null,
          storage_key: object.key,
          size_bytes: object.sizeBytes,
          sha256: object.sha256,
          idempotency_key: null,
          correlation_id: batch.correlationId,
          columns: null,
          error: null,
          started_at: null,
          finished_at: null,
        });
        return findJob(trx, batch.tenantId, jobId);
      });
      if (job === undefined) throw new AppError('internal', 'the push job vanished right after it was created');
      try {
        await enqueueIngest(queue, { jobId, tenantId: batch.tenantId, correlationId: batch.correlationId }, retry);
      } catch (error) {
        // The job row and its blob are durable; the worker's reconciler queues it.
        logger.warn('enqueue of a push batch failed; the reconciler will queue it', { jobId, error: (error as Error).message });
      }
      for (const w of batch.waiters) w.resolve({ job, records: w.records, firstRow: w.firstRow, lastRow: w.firstRow + w.records - 1 });
    } catch (error) {
      if (stored) await storage.remove(storageKey).catch(() => undefined);
      logger.error('push batch could not be stored', { jobId, records: batch.lines.length, error: (error as Error).message });
      const refused = new AppError('unavailable', 'the push could not be stored; nothing of it was kept, push again', { cause: error });
      for (const w of batch.waiters) w.reject(refused);
    }
  }
}
