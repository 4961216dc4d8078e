import { AppError } from '@sluice/errors';
import type { Batch } from '@sluice/pipeline';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { beginAsTenant } from './tenant-scope.js';
import { copyLines, fold, insertRejected, STAGING, UPSERT, type BatchOutcome, type JobRef } from './batch-writer.js';

const JOB_STATE = `SELECT status, attempts FROM ingestion_jobs WHERE id = $1 AND tenant_id = $2`;
const LOCK_JOB = `SELECT status, attempts FROM ingestion_jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE`;

// Counters are set, not added to: a run that starts over from row 0 counts everything itself.
const SET_COUNTS = `UPDATE ingestion_jobs SET
  rows_seen = $4, rows_valid = $5, rows_invalid = $6, rows_inserted = $7, rows_updated = $8, rows_unchanged = $9,
  checkpoint = $10, bytes_read = greatest(bytes_read, $11), updated_at = now()
WHERE id = $1 AND tenant_id = $2 AND attempts = $3`;

const COMPLETE = `UPDATE ingestion_jobs SET status = 'completed', finished_at = now(), bytes_read = coalesce(size_bytes, bytes_read), updated_at = now()
WHERE id = $1 AND tenant_id = $2 AND attempts = $3 AND status = 'processing'`;

/**
 * Writes an atomic job: no row of the file becomes visible unless the whole file passes.
 *
 * Design: every record of the file is upserted in ONE transaction on one connection, held
 * open from the first batch to the end; the job's counters and its `completed` status
 * commit in that same transaction. Nothing is visible before that commit, and a crash at
 * any point (the worker killed, the connection cut) rolls all of it back: the job's
 * checkpoint never moved, so the retry starts from row 0 and, since counters are set rather
 * than added, counts once. A file over its error budget rolls back the same way and keeps
 * only its counts and rejected rows. Rejected rows commit separately as they come (keyed by
 * job and row, so a retry rewrites them without doubling) to say why a file failed.
 * Cancellation and a newer attempt are checked at every batch without locking the job row,
 * so `cancel` never waits for a long file; the row is locked only for the final commit.
 * The cost: a big atomic file holds its records' row locks until it ends.
 */
export class AtomicWriter {
  private client: pg.PoolClient | undefined;
  private healthy = true;
  private lastRow = 0;
  private bytesRead = 0;
  private readonly counts: BatchOutcome = { rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 };
  private readonly onError = () => {
    this.healthy = false;
  };

  constructor(
    private readonly pool: pg.Pool,
    private readonly job: JobRef,
    private readonly options: { onWritten?: (batch: Batch) => void } = {},
  ) {}

  /** Adds a batch to the open transaction; its rejected rows commit at once. */
  async write(batch: Batch, bytesRead: number): Promise<void> {
    const c = await this.open();
    const { job } = this;
    const state = (await c.query<{ status: string; attempts: number }>(JOB_STATE, [job.id, job.tenantId])).rows[0];
    this.fence(state);
    if (batch.rejected.length > 0) await this.saveRejected(batch);
    const rows = fold(batch.valid);
    const sorted = [...rows.keys()].sort().map((k) => rows.get(k)!);
    let inserted = 0;
    let updated = 0;
    if (sorted.length > 0) {
      await pipeline(
        Readable.from(copyLines(sorted, '', '\n')),
        c.query(copyFrom('COPY sluice_staging (key_hash, content_hash, data) FROM STDIN')),
      );
      const result = await c.query<{ inserted: number; updated: number }>(UPSERT, [job.tenantId, job.datasetId, job.id]);
      await c.query('TRUNCATE sluice_staging');
      inserted = result.rows[0]?.inserted ?? 0;
      updated = result.rows[0]?.updated ?? 0;
    }
    this.counts.rows += batch.rows;
    this.counts.valid += batch.valid.length;
    this.counts.invalid += batch.rejected.length;
    this.counts.inserted += inserted;
    this.counts.updated += updated;
    this.counts.unchanged += batch.valid.length - inserted - updated;
    this.lastRow = batch.lastRow;
    this.bytesRead = bytesRead;
    this.options.onWritten?.(batch);
  }

  /** Makes the whole file visible and completes the job, in one commit. */
  async commit(): Promise<BatchOutcome> {
    const c = await this.open();
    const { job } = this;
    try {
      this.fence((await c.query<{ status: string; attempts: number }>(LOCK_JOB, [job.id, job.tenantId])).rows[0]);
      await c.query(SET_COUNTS, this.countParams());
      await c.query(COMPLETE, [job.id, job.tenantId, job.attempt]);
      await c.query('COMMIT');
      return { ...this.counts };
    } catch (error) {
      await this.rollback();
      throw error;
    } finally {
      this.release();
    }
  }

  /**
   * Drops every record written so far. With `keepCounts` (the file failed for good) it records
   * what was counted, inserted as nothing, so the failed job shows how far it read.
   */
  async abandon(options: { keepCounts: boolean }): Promise<void> {
    if (this.client === undefined) return;
    await this.rollback();
    this.release();
    if (!options.keepCounts) return;
    await this.inTenant(async (c) => {
      await c.query(SET_COUNTS, [...this.countParams().slice(0, 6), 0, 0, 0, 0, this.bytesRead]);
    }).catch(() => undefined);
  }

  private countParams() {
    const { job, counts } = this;
    return [
      job.id,
      job.tenantId,
      job.attempt,
      counts.rows,
      counts.valid,
      counts.invalid,
      counts.inserted,
      counts.updated,
      counts.unchanged,
      this.lastRow,
      this.bytesRead,
    ];
  }

  private fence(state: { status: string; attempts: number } | undefined): void {
    const { job } = this;
    if (state === undefined || state.status !== 'processing') {
      throw new AppError('job_cancelled', `job ${job.id} is ${state?.status ?? 'gone'}; nothing of it was kept`);
    }
    if (state.attempts !== job.attempt) {
      throw new AppError('job_superseded', `job ${job.id} is at attempt ${state.attempts}; this run is attempt ${job.attempt}`);
    }
  }

  private async open(): Promise<pg.PoolClient> {
    if (this.client !== undefined) return this.client;
    const c = await this.pool.connect();
    this.client = c;
    c.on('error', this.onError);
    await c.query(`${beginAsTenant(this.job.tenantId)}; ${STAGING}`);
    return c;
  }

  private async saveRejected(batch: Batch): Promise<void> {
    // Rejected rows commit on their own, so a file that fails its budget still shows why.
    await this.inTenant((c) => insertRejected(c, this.job, batch.rejected, { skipExisting: true }));
  }

  private async inTenant<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query(beginAsTenant(this.job.tenantId));
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (error) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      c.release();
    }
  }

  private async rollback(): Promise<void> {
    await this.client?.query('ROLLBACK').catch(() => {
      this.healthy = false;
    });
  }

  private release(): void {
    const c = this.client;
    if (c === undefined) return;
    this.client = undefined;
    c.off('error', this.onError);
    c.release(this.healthy ? undefined : true);
  }
}
