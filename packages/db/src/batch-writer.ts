import { AppError } from '@sluice/errors';
import type { Batch } from '@sluice/pipeline';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export interface BatchOutcome {
  rows: number;
  valid: number;
  invalid: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface JobRef {
  id: string;
  tenantId: string;
  datasetId: string;
}

const STAGING = `CREATE TEMP TABLE IF NOT EXISTS sluice_staging (
  row_number bigint NOT NULL, key_hash bytea NOT NULL, content_hash bytea NOT NULL, data jsonb NOT NULL
) ON COMMIT DELETE ROWS`;

// The later row of an identity wins (DISTINCT ON keeps the highest row number). Rows go in
// key order, so two jobs upserting overlapping keys lock them in the same order and cannot
// deadlock. An unchanged content hash leaves the row alone (no dead tuple, no WAL);
// RETURNING sees only rows written, and xmax = 0 tells an insert from an update.
const UPSERT = `WITH written AS (
  INSERT INTO records AS r (tenant_id, dataset_id, key_hash, content_hash, data, first_job_id, last_job_id)
  SELECT DISTINCT ON (key_hash) $1::uuid, $2::uuid, key_hash, content_hash, data, $3::uuid, $3::uuid
  FROM sluice_staging
  ORDER BY key_hash, row_number DESC
  ON CONFLICT (tenant_id, dataset_id, key_hash) DO UPDATE
    SET content_hash = excluded.content_hash, data = excluded.data, last_job_id = excluded.last_job_id, updated_at = now()
    WHERE r.content_hash <> excluded.content_hash
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated FROM written`;

const INSERT_ERRORS = `INSERT INTO validation_errors (tenant_id, job_id, row_number, line, line_end, raw, "values", errors)
SELECT $1::uuid, $2::uuid, * FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::jsonb[], $8::jsonb[])`;

const LOCK_JOB = `SELECT status, checkpoint FROM ingestion_jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE`;

const ADVANCE_JOB = `UPDATE ingestion_jobs SET
  checkpoint = $3, bytes_read = greatest(bytes_read, $4),
  rows_seen = rows_seen + $5, rows_valid = rows_valid + $6, rows_invalid = rows_invalid + $7,
  rows_inserted = rows_inserted + $8, rows_updated = rows_updated + $9, rows_unchanged = rows_unchanged + $10,
  updated_at = now()
WHERE id = $1 AND tenant_id = $2`;

/** PostgreSQL text (and so jsonb) cannot hold NUL; it stands as U+FFFD in what Sluice keeps of bad rows. */
const noNul = (text: string) => (text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text);
const jsonNoNul = (value: unknown) => JSON.stringify(value).replaceAll('\\u0000', '\\ufffd');

/** COPY text format: a backslash in the data must be doubled; JSON has no raw tab or newline. */
function* copyLines(batch: Batch): Generator<string> {
  let out = '';
  for (const r of batch.valid) {
    const data = r.json.includes('\\') ? r.json.replaceAll('\\', '\\\\') : r.json;
    out += `${r.row}\t\\\\x${r.keyHash}\t\\\\x${r.contentHash}\t${data}\n`;
    if (out.length > 1 << 16) {
      yield out;
      out = '';
    }
  }
  if (out.length > 0) yield out;
}

const staged = new WeakSet<pg.PoolClient>();

/**
 * Commits one batch: its records, its rejected rows and the job's checkpoint and counters,
 * in one transaction (contract 2: exactly-once effect).
 *
 * Design: the job row is locked first and its checkpoint must equal `expectedCheckpoint`,
 * the end of the previous batch this run committed. A second worker running the same job
 * (after a lost lock) blocks on that lock, then finds the checkpoint moved and stops with
 * `job_superseded` before writing anything; a cancelled job stops with `job_cancelled`.
 * Valid rows are COPYed into a session-local staging table and merged into `records` by one
 * INSERT … SELECT … ON CONFLICT.
 */
export async function commitBatch(pool: pg.Pool, job: JobRef, batch: Batch, expectedCheckpoint: number, bytesRead: number): Promise<BatchOutcome> {
  const client = await pool.connect();
  let healthy = true;
  try {
    if (!staged.has(client)) {
      await client.query(STAGING);
      staged.add(client);
    }
    await client.query('BEGIN');
    const locked = await client.query<{ status: string; checkpoint: number }>(LOCK_JOB, [job.id, job.tenantId]);
    const state = locked.rows[0];
    if (state === undefined || state.status !== 'processing') {
      throw new AppError('job_cancelled', `job ${job.id} is ${state?.status ?? 'gone'}; stopping at the batch boundary`);
    }
    if (Number(state.checkpoint) !== expectedCheckpoint) {
      throw new AppError('job_superseded', `job ${job.id} was advanced to row ${state.checkpoint} by another run`);
    }
    let inserted = 0;
    let updated = 0;
    if (batch.valid.length > 0) {
      await pipeline(Readable.from(copyLines(batch)), client.query(copyFrom('COPY sluice_staging (row_number, key_hash, content_hash, data) FROM STDIN')));
      const result = await client.query<{ inserted: number; updated: number }>(UPSERT, [job.tenantId, job.datasetId, job.id]);
      inserted = result.rows[0]?.inserted ?? 0;
      updated = result.rows[0]?.updated ?? 0;
    }
    if (batch.rejected.length > 0) {
      const r = batch.rejected;
      await client.query(INSERT_ERRORS, [
        job.tenantId,
        job.id,
        r.map((x) => x.row),
        r.map((x) => x.line),
        r.map((x) => x.lineEnd),
        r.map((x) => noNul(x.raw)),
        r.map((x) => jsonNoNul(x.values)),
        r.map((x) => jsonNoNul(x.errors)),
      ]);
    }
    const outcome: BatchOutcome = {
      rows: batch.rows,
      valid: batch.valid.length,
      invalid: batch.rejected.length,
      inserted,
      updated,
      unchanged: batch.valid.length - inserted - updated,
    };
    await client.query(ADVANCE_JOB, [
      job.id,
      job.tenantId,
      batch.lastRow,
      bytesRead,
      outcome.rows,
      outcome.valid,
      outcome.invalid,
      outcome.inserted,
      outcome.updated,
      outcome.unchanged,
    ]);
    await client.query('COMMIT');
    return outcome;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      healthy = false;
    });
    throw error;
  } finally {
    client.release(healthy ? undefined : true);
  }
}
