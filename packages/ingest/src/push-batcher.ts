import { appendPushSegment, firstPushSegment, insertJob, pushRows, withTenant, type DB, type Job, type JobView } from '@sluice/db';
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
  /** How long a batch stays open for more pushes after its first one (and after the previous flush), at most. */
  lingerMs: number;
  /** A batch is sealed sooner once no push has come for this long. */
  quietMs: number;
  /** A batch is flushed at once when it holds this many records. */
  maxRecords: number;
  /** Flushes of one lane (tenant and dataset) that may run at once. */
  maxInFlight: number;
  /** How long a new push job waits in the queue before a worker may take it, gathering later batches meanwhile. */
  jobDelayMs: number;
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
  /** When its latest push arrived. */
  lastPushAt: number;
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
 * push that arrives while a batch is open go into one NDJSON blob, a segment of an
 * ingestion job (kind `push`), which then takes the same path as an upload.
 *
 * Design: a push's promise resolves only once its batch is durable (the blob fsynced, the
 * job row committed), so a 202 means the record will land exactly once, whatever dies
 * afterwards; queueing the job may still fail, and the reconciler queues it then. A batch
 * is sealed `quietMs` after the latest push, `lingerMs` after its first (whichever comes
 * first), or at `maxRecords`; at most `maxInFlight` batches of a lane flush at once, and
 * sealed ones wait for a slot while the open one keeps filling (group commit). A flushed batch joins the lane's last job as a new segment while
 * no worker has claimed that job. A new job is queued with a delay (`jobDelayMs`) for the
 * same reason: a worker that is idle would otherwise take every batch as its own job, and
 * a job's fixed cost (its transactions, its queue round trips) would be paid per batch
 * rather than per few hundred records, on the same CPUs the API needs. So the number of
 * jobs follows the delay and the workers' pace, never the request rate. One push
 * is never split: its records are consecutive rows of one job. `close` seals what is open,
 * refuses new pushes and waits for every flush, so a SIGTERM loses nothing that was accepted.
 */
export class PushBatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly idle = new Set<() => void>();
  /** Each lane's latest push job, which later batches join while it is still queued. */
  private readonly latestJob = new Map<string, string>();
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
      lane.open = { ...target, lines: [], waiters: [], correlationId, openedAt: performance.now(), lastPushAt: 0, timer: undefined, due: false };
    }
    const batch = lane.open;
    const promise = new Promise<PushReceipt>((resolve, reject) => {
      batch.waiters.push({ records: lines.length, firstRow: batch.lines.length + 1, resolve, reject });
    });
    for (const line of lines) batch.lines.push(line);
    batch.lastPushAt = performance.now();
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

  /** Seals the batch once it has been open for the linger time, or earlier once pushes have paused. */
  private arm(key: string, lane: Lane, batch: OpenBatch) {
    const now = performance.now();
    const untilLinger = this.options.lingerMs - (now - batch.openedAt);
    const untilQuiet = this.options.quietMs - (now - batch.lastPushAt);
    batch.timer = setTimeout(
      () => {
        batch.timer = undefined;
        if (lane.open !== batch) return;
        const at = performance.now();
        if (at - batch.openedAt < this.options.lingerMs && at - batch.lastPushAt < this.options.quietMs) return this.arm(key, lane, batch);
        if (lane.inFlight < this.options.maxInFlight) this.seal(key, lane);
        else batch.due = true;
      },
      Math.max(0, Math.min(untilLinger, untilQuiet)),
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
      void this.flush(key, batch).then(() => {
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
   * Stores the batch as one NDJSON blob (a segment) and records it: appended to the lane's
   * job while that job is still queued and untouched by a worker, else as a new job. The
   * blob is written while the transaction runs, and the transaction commits only once the
   * blob is durable, holding the job row's lock meanwhile: a worker that claims the job
   * waits for it, so it never finds a segment without its blob. Never rejects: its waiters do.
   */
  private async flush(key: string, batch: OpenBatch): Promise<void> {
    const { db, storage, queue, retry, logger } = this.deps;
    const blob = Buffer.from(`${batch.lines.join('\n')}\n`, 'utf8');
    const segment = { key: `${batch.tenantId}/${randomUUID()}`, bytes: blob.length, rows: batch.lines.length };
    const written = storage.write(segment.key, Readable.from([blob]));
    written.catch(() => undefined); // awaited inside the transaction; this only keeps an early failure handled
    let created = false;
    try {
      const { job, firstRow } = await withTenant(db, batch.tenantId, async (trx) => {
        const latest = this.latestJob.get(key);
        const appended = latest === undefined ? undefined : await appendPushSegment(trx, batch.tenantId, latest, segment);
        let row: Job;
        if (appended !== undefined) row = appended;
        else {
          created = true;
          row = await insertJob(trx, {
            id: randomUUID(),
            tenant_id: batch.tenantId,
            dataset_id: batch.datasetId,
            kind: 'push',
            status: 'queued',
            format: 'ndjson',
            options: JSON.stringify(firstPushSegment(segment)),
            file_name: null,
            storage_key: segment.key,
            size_bytes: segment.bytes,
            sha256: null,
            idempotency_key: null,
            correlation_id: batch.correlationId,
            columns: null,
            error: null,
            started_at: null,
            finished_at: null,
          });
        }
        await written;
        return { job: { ...row, dataset_name: batch.datasetName }, firstRow: pushRows(row) - segment.rows + 1 };
      });
      if (created) {
        if (this.latestJob.size >= 10_000) this.latestJob.clear();
        this.latestJob.set(key, job.id);
      }
      // Durable now: answer first, then queue (the job row and its blobs are what a 202
      // promises; a job that Redis does not get is queued by the worker's reconciler).
      let next = firstRow;
      for (const w of batch.waiters) {
        w.resolve({ job, records: w.records, firstRow: next, lastRow: next + w.records - 1 });
        next += w.records;
      }
      if (created) {
        const payload = { jobId: job.id, tenantId: batch.tenantId, correlationId: batch.correlationId };
        await enqueueIngest(queue, payload, retry, this.options.jobDelayMs).catch(
          (error: Error) =>
            logger.warn('enqueue of a push batch failed; the reconciler will queue it', { jobId: job.id, error: error.message }),
        );
      }
    } catch (error) {
      await storage.remove(segment.key).catch(() => undefined);
      logger.error('push batch could not be stored', { records: batch.lines.length, error: (error as Error).message });
      const refused = new AppError('unavailable', 'the push could not be stored; nothing of it was kept, push again', { cause: error });
      for (const w of batch.waiters) w.reject(refused);
    }
  }
}
