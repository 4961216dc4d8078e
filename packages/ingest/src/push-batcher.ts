import { deleteJob, insertJob, withTenant, type DB, type JobView } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { Logger } from '@sluice/logging';
import { enqueueIngest, type IngestPayload, type RetryPolicy } from '@sluice/queue';
import type { Storage } from '@sluice/storage';
import type { Queue } from 'bullmq';
import type { Kysely, Transaction } from 'kysely';
import { createHash, randomUUID } from 'node:crypto';
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
  /** Flushes of one lane (tenant and dataset) that may run at once. */
  maxInFlight: number;
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
  datasetName: string;
  lines: string[];
  waiters: Waiter[];
  correlationId: string;
  openedAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Its linger is over, but every flush slot was busy: it goes when one frees. */
  due: boolean;
}

interface Lane {
  open: OpenBatch | undefined;
  /** Sealed batches waiting for a flush slot, oldest first. */
  ready: OpenBatch[];
  inFlight: number;
}

/**
 * Coalesces pushes into short-lived batches: per tenant and dataset, the records of every
 * push that arrives while a batch is open go into one NDJSON blob and one ingestion job
 * (kind `push`), which then takes the same path as an upload.
 *
 * Design: a push's promise resolves only once its batch is durable (the blob fsynced, the
 * job row committed), so a 202 means the record will land exactly once, whatever dies
 * afterwards; queueing the job may still fail, and the reconciler queues it then. A batch
 * is sealed `lingerMs` after its first push (or at `maxRecords`); at most `maxInFlight`
 * batches of a lane flush at once, and sealed ones wait for a slot while the open one keeps
 * filling, so under load batches grow instead of multiplying (group commit): the number of
 * jobs follows the flush rate, not the request rate. One push is never split: its records
 * are consecutive rows of one job. `close` seals what is open, refuses new pushes and waits
 * for every flush, so a SIGTERM loses nothing that was accepted.
 */
export class PushBatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly idle = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly deps: PushBatcherDeps,
    private readonly options: PushBatcherOptions,
  ) {}

  /** Adds one push (its records as NDJSON lines) to its lane's open batch; resolves when that batch is durable. */
  push(target: { tenantId: string; datasetId: string; datasetName: string }, lines: string[], correlationId: string): Promise<PushReceipt> {
    if (this.closed) return Promise.reject(new AppError('unavailable', 'the server is shutting down; push again'));
    const key = `${target.tenantId}/${target.datasetId}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { open: undefined, ready: [], inFlight: 0 };
      this.lanes.set(key, lane);
    }
    if (lane.open === undefined) {
      lane.open = { ...target, lines: [], waiters: [], correlationId, openedAt: performance.now(), timer: undefined, due: false };
    }
    const batch = lane.open;
    const promise = new Promise<PushReceipt>((resolve, reject) => {
      batch.waiters.push({ records: lines.length, firstRow: batch.lines.length + 1, resolve, reject });
    });
    for (const line of lines) batch.lines.push(line);
    if (batch.lines.length >= this.options.maxRecords) this.seal(key, lane);
    else if (batch.timer === undefined && !batch.due) this.arm(key, lane, batch);
    return promise;
  }

  /** Flushes every open batch and waits for every flush; later pushes are refused with 503. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [key, lane] of this.lanes) this.seal(key, lane);
    if (this.lanes.size === 0) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.lanes.size > 0) return;
        this.idle.delete(check);
        resolve();
      };
      this.idle.add(check);
    });
  }

  /** Seals the batch once it has been open for the linger time. */
  private arm(key: string, lane: Lane, batch: OpenBatch) {
    batch.timer = setTimeout(
      () => {
        batch.timer = undefined;
        if (lane.open !== batch) return;
        if (lane.inFlight < this.options.maxInFlight) this.seal(key, lane);
        else batch.due = true;
      },
      Math.max(0, this.options.lingerMs - (performance.now() - batch.openedAt)),
    );
  }

  /** Closes the lane's open batch to new pushes and queues it for a flush. */
  private seal(key: string, lane: Lane) {
    const batch = lane.open;
    if (batch !== undefined) {
      if (batch.timer !== undefined) clearTimeout(batch.timer);
      batch.timer = undefined;
      lane.open = undefined;
      lane.ready.push(batch);
    }
    this.pump(key, lane);
  }

  /** Starts flushes while the lane has a free slot; forgets the lane when it is empty. */
  private pump(key: string, lane: Lane) {
    while (lane.inFlight < this.options.maxInFlight && lane.ready.length > 0) {
      const batch = lane.ready.shift()!;
      lane.inFlight++;
      void this.flush(batch).then(() => {
        lane.inFlight--;
        if (lane.open?.due === true) this.seal(key, lane);
        else this.pump(key, lane);
      });
    }
    if (lane.inFlight === 0 && lane.ready.length === 0 && lane.open === undefined && this.lanes.get(key) === lane) {
      this.lanes.delete(key);
      for (const check of [...this.idle]) check();
    }
  }

  /**
   * Stores the batch as one NDJSON blob and records its job, the two at once (the blob's
   * size and hash are known before it is written). A job row whose blob could not be
   * written is deleted again before anyone is answered. Never rejects: its waiters do.
   */
  private async flush(batch: OpenBatch): Promise<void> {
    const { db, storage, queue, retry, logger } = this.deps;
    const jobId = randomUUID();
    const storageKey = `${batch.tenantId}/${jobId}`;
    const blob = Buffer.from(`${batch.lines.join('\n')}\n`, 'utf8');
    const inTenant = <T>(fn: (trx: Transaction<DB>) => Promise<T>) => withTenant(db, batch.tenantId, fn);
    const [written, recorded] = await Promise.allSettled([
      storage.write(storageKey, Readable.from([blob])),
      inTenant(async (trx) => {
        const job = await insertJob(trx, {
          id: jobId,
          tenant_id: batch.tenantId,
          dataset_id: batch.datasetId,
          kind: 'push',
          status: 'queued',
          format: 'ndjson',
          options: JSON.stringify({ pushes: batch.waiters.length }),
          file_name: null,
          storage_key: storageKey,
          size_bytes: blob.length,
          sha256: createHash('sha256').update(blob).digest('hex'),
          idempotency_key: null,
          correlation_id: batch.correlationId,
          columns: null,
          error: null,
          started_at: null,
          finished_at: null,
        });
        return { ...job, dataset_name: batch.datasetName };
      }),
    ]);
    if (written.status === 'fulfilled' && recorded.status === 'fulfilled') {
      // Durable now: answer first, then queue (the job row and blob are what a 202 promises;
      // a job that Redis does not get is queued by the worker's reconciler).
      const job = recorded.value;
      for (const w of batch.waiters) w.resolve({ job, records: w.records, firstRow: w.firstRow, lastRow: w.firstRow + w.records - 1 });
      try {
        await enqueueIngest(queue, { jobId, tenantId: batch.tenantId, correlationId: batch.correlationId }, retry);
      } catch (error) {
        logger.warn('enqueue of a push batch failed; the reconciler will queue it', { jobId, error: (error as Error).message });
      }
      return;
    }
    const cause = (written.status === 'rejected' ? written.reason : (recorded as PromiseRejectedResult).reason) as Error;
    if (written.status === 'fulfilled') await storage.remove(storageKey).catch(() => undefined);
    if (recorded.status === 'fulfilled') await inTenant((trx) => deleteJob(trx, batch.tenantId, jobId)).catch(() => undefined);
    logger.error('push batch could not be stored', { jobId, records: batch.lines.length, error: cause.message });
    const refused = new AppError('unavailable', 'the push could not be stored; nothing of it was kept, push again', { cause });
    for (const w of batch.waiters) w.reject(refused);
  }
}
