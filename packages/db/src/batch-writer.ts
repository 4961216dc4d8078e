import { AppError } from '@sluice/errors';
import type { Batch, ValidRow } from '@sluice/pipeline';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isUniqueViolation } from './datasets.repository.js';
import { beginAsTenant, uuidLiteral } from './tenant-scope.js';

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
  /** The run's fencing token: the job's attempt number when this run claimed it. */
  attempt: number;
}

// Filled before the batch's transaction begins and emptied after it, so that transaction
// is short and never idles while another batch works.
export const STAGING = `CREATE TEMP TABLE IF NOT EXISTS sluice_staging (
  key_hash bytea NOT NULL, content_hash bytea NOT NULL, data jsonb NOT NULL
)`;

// Rows go in key order, so two jobs upserting overlapping keys lock them in the same order
// and cannot deadlock. An unchanged content hash leaves the row alone; RETURNING sees only
// rows written, and xmax = 0 tells an insert from an update.
export const UPSERT = `WITH written AS (
  INSERT INTO records AS r (tenant_id, dataset_id, key_hash, content_hash, data, first_job_id, last_job_id)
  SELECT $1::uuid, $2::uuid, key_hash, content_hash, data, $3::uuid, $3::uuid
  FROM sluice_staging
  ORDER BY key_hash
  ON CONFLICT (tenant_id, dataset_id, key_hash) DO UPDATE
    SET content_hash = excluded.content_hash, data = excluded.data, last_job_id = excluded.last_job_id, updated_at = now()
    WHERE r.content_hash <> excluded.content_hash
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated FROM written`;

// Which of the batch's rows are new or changed; unchanged ones do not come back, so a
// re-ingest's answer is empty. The hashes travel as two hex strings, 32 bytes a row, cut
// apart in SQL: far cheaper on both sides than arrays of 10,000 elements. One index lookup
// per key: LIMIT keeps the lateral subquery from being flattened into a join (PostgreSQL
// would see the row count and hash the whole table), and only the unique index fits it.
// MATERIALIZED keeps b.key_hash a plain value: inlined, the lookup would compare against
// substring(…), which is not leakproof, and row-level security then forbids using it as an
// index condition — a sequential scan per key.
const PROBE = `WITH batch AS MATERIALIZED (
  SELECT substring(k FROM i * 32 + 1 FOR 32) AS key_hash, substring(c FROM i * 32 + 1 FOR 32) AS content_hash
  FROM decode($3, 'hex') AS k, decode($4, 'hex') AS c, generate_series(0, length(k) / 32 - 1) AS i
)
SELECT encode(b.key_hash, 'hex') AS k, r.content_hash IS NOT NULL AS stored
FROM batch b
LEFT JOIN LATERAL (
  SELECT content_hash FROM records
  WHERE tenant_id = $1 AND dataset_id = $2 AND key_hash = b.key_hash
  LIMIT 1
) r ON true
WHERE r.content_hash IS DISTINCT FROM b.content_hash`;

const INSERT_ERRORS = `INSERT INTO validation_errors (tenant_id, job_id, row_number, line, line_end, raw, "values", errors)
SELECT $1::uuid, $2::uuid, * FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::jsonb[], $8::jsonb[])`;

const LOCK_JOB = `SELECT status, checkpoint, attempts FROM ingestion_jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE`;

const ADVANCE_JOB = `UPDATE ingestion_jobs SET
  checkpoint = $3, bytes_read = greatest(bytes_read, $4),
  rows_seen = rows_seen + $5, rows_valid = rows_valid + $6, rows_invalid = rows_invalid + $7,
  rows_inserted = rows_inserted + $8, rows_updated = rows_updated + $9, rows_unchanged = rows_unchanged + $10,
  updated_at = now()
WHERE id = $1 AND tenant_id = $2`;

/**
 * Writes a batch's rejected rows to `validation_errors`, in one statement. `skipExisting`
 * is for a writer whose retries write the same rows again (the atomic one); the batch
 * writer's fencing means a row it writes twice is a bug, which the primary key reports.
 */
export async function insertRejected(
  c: pg.ClientBase,
  job: Pick<JobRef, 'id' | 'tenantId'>,
  r: Batch['rejected'],
  options: { skipExisting?: boolean } = {},
): Promise<void> {
  await c.query(options.skipExisting === true ? `${INSERT_ERRORS} ON CONFLICT (job_id, row_number) DO NOTHING` : INSERT_ERRORS, [
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

/** PostgreSQL text (and so jsonb) cannot hold NUL; it stands as U+FFFD in what Sluice keeps of bad rows. */
const noNul = (text: string) => (text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text);
const jsonNoNul = (value: unknown) => JSON.stringify(value).replaceAll('\\u0000', '\\ufffd');

/**
 * COPY text format, one row a line: `prefix`, key hash, content hash, data, `suffix`. A
 * backslash in the data must be doubled; JSON has no raw tab or newline.
 */
export function* copyLines(rows: Iterable<ValidRow>, prefix: string, suffix: string): Generator<string> {
  let out = '';
  for (const r of rows) {
    const data = r.json.includes('\\') ? r.json.replaceAll('\\', '\\\\') : r.json;
    out += `${prefix}\\\\x${r.keyHash}\t\\\\x${r.contentHash}\t${data}${suffix}`;
    if (out.length > 1 << 16) {
      yield out;
      out = '';
    }
  }
  if (out.length > 0) yield out;
}

const COPY_STAGING = 'COPY sluice_staging (key_hash, content_hash, data) FROM STDIN';

// New rows with no conflict to expect: a plain insert, no speculative insertion. (COPY
// straight into records would be cheaper still, but PostgreSQL refuses COPY FROM into a
// table under row-level security.)
const INSERT_NEW = `INSERT INTO records (tenant_id, dataset_id, key_hash, content_hash, data, first_job_id, last_job_id)
SELECT $1::uuid, $2::uuid, key_hash, content_hash, data, $3::uuid, $3::uuid FROM sluice_staging ORDER BY key_hash`;


/** One row per identity, the later row of the batch winning (contract 1). */
export function fold(rows: ValidRow[]): Map<string, ValidRow> {
  const byKey = new Map<string, ValidRow>();
  for (const r of rows) byKey.set(r.keyHash, r);
  return byKey;
}

const staged = new WeakSet<pg.PoolClient>();

// Transaction-scoped advisory locks on (job, batch sequence) order a run's batches inside
// PostgreSQL, where its deadlock detector can see every wait. The first is taken with the
// transaction's BEGIN, in one simple query, so with literals.
const beginBatch = (jobId: string, sequence: number) => `SELECT pg_advisory_xact_lock(hashtext(${uuidLiteral(jobId)}), ${Math.trunc(sequence)})`;
const AFTER_PREVIOUS = 'SELECT pg_advisory_xact_lock_shared(hashtext($1), $2)';

/**
 * Commits a job's batches: each batch's records, rejected rows and the job's checkpoint and
 * counters in one transaction (contract 2: exactly-once effect).
 *
 * Design notes:
 * - Fencing. Each transaction locks the job row and requires it to be at this run's attempt
 *   and its checkpoint to equal the end of the batch before it. A run that lost the job (its
 *   worker froze, another claimed it) finds a newer attempt and stops with `job_superseded`
 *   before writing; a cancelled job stops with `job_cancelled`.
 * - Pipelining. Two batches are in flight on two connections. Batch i begins its transaction
 *   only after batch i-1 began its own, and takes an advisory lock on (job, i) as it does.
 *   It then does its heavy work (the COPY) alongside batch i-1, and before touching the job
 *   row it waits in PostgreSQL, on i-1's advisory lock, for i-1 to end. So batches commit in
 *   file order, and every wait made while holding rows is one PostgreSQL sees: a deadlock
 *   with another job is detected and retried, never a silent hang. If i-1 fails, i finds the
 *   checkpoint unmoved and rolls back.
 * - Unchanged rows. When the dataset already had records, a batch first asks which of its
 *   (key, content) pairs are not stored as they are, and writes only those: a re-ingest
 *   writes nothing (no row locks, no dead tuples, no WAL). Keys of the batch before are
 *   always written, so a later row in the file always wins.
 * - Staging. A batch's rows are COPYed into a session-local staging table before its
 *   transaction begins, so the transaction stays short and never idles.
 * - New rows. When no key of the batch is known to exist (the dataset was empty when the job
 *   started, or the probe found none) and none is in the batch before, they go into
 *   `records` by a plain insert in key order: no speculative insertion. A key that exists
 *   after all (a concurrent job) makes the unique index refuse it once the other writer
 *   commits; the batch rolls back to a savepoint and takes the upsert, and so does the rest
 *   of the job. Everything else is merged by one upsert.
 * - Tenancy. Every transaction sets the job's tenant first; row-level security lets it see
 *   and write that tenant's rows only.
 * - Durability. Batches commit with `synchronous_commit = off`. A crash of PostgreSQL can
 *   lose the last few commits, but a batch and its checkpoint are lost together, so the job
 *   resumes from a checkpoint that matches the rows; completing the job commits synchronously
 *   and so makes every batch before it durable.
 */
export class BatchWriter {
  private readonly inFlight: Array<Promise<BatchOutcome>> = [];
  private checkpoint: number;
  private sequence = 0;
  /** Settles once the latest batch has begun its transaction (or gave up before). */
  private lastStarted: Promise<void> = Promise.resolve();
  private previousKeys: ReadonlyMap<string, ValidRow> = new Map();
  private failure: { error: unknown } | undefined;
  private readonly probeUnchanged: boolean;
  /** Whether new rows may still go straight into `records` (see the design notes). */
  private direct = true;
  private readonly onCommitted: ((outcome: BatchOutcome, batch: Batch, seconds: number) => void) | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly job: JobRef,
    /** `onCommitted` hears each batch's outcome and the seconds from `write` to its commit. */
    options: { checkpoint: number; probeUnchanged: boolean; onCommitted?: (outcome: BatchOutcome, batch: Batch, seconds: number) => void },
  ) {
    this.checkpoint = options.checkpoint;
    this.probeUnchanged = options.probeUnchanged;
    this.onCommitted = options.onCommitted;
  }

  /** Starts committing `batch`; waits while two are already in flight. Throws the first failure. */
  async write(batch: Batch, bytesRead: number): Promise<void> {
    if (this.inFlight.length >= 2) await this.settleOldest();
    const began = performance.now();
    const rows = fold(batch.valid);
    let started!: () => void;
    const step: Step = {
      sequence: ++this.sequence,
      expected: this.checkpoint,
      keysBefore: this.previousKeys,
      afterStart: this.lastStarted,
      started: () => started(),
    };
    this.lastStarted = new Promise<void>((resolve) => (started = resolve));
    this.checkpoint = batch.lastRow;
    this.previousKeys = rows;
    const commit = this.commit(batch, rows, step, bytesRead).then((outcome) => {
      this.onCommitted?.(outcome, batch, (performance.now() - began) / 1000);
      return outcome;
    });
    commit.catch(() => undefined); // observed by settleOldest
    this.inFlight.push(commit);
  }

  /** Waits for every batch in flight. Throws the first failure. */
  async flush(): Promise<void> {
    while (this.inFlight.length > 0) await this.settleOldest();
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight.shift();
    try {
      await oldest;
    } catch (error) {
      this.failure ??= { error };
      // Later batches fail their fence once this one rolled back; wait for them to let go.
      await Promise.allSettled(this.inFlight.splice(0));
    }
    if (this.failure !== undefined) throw this.failure.error;
  }

  private async commit(batch: Batch, rows: Map<string, ValidRow>, step: Step, bytesRead: number): Promise<BatchOutcome> {
    const { job } = this;
    let client: pg.PoolClient | undefined;
    let healthy = true;
    let staging = false;
    // A connection that dies under a checked-out client is reported here as well as to the
    // query in flight; without a listener it would end the process.
    const onError = () => {
      healthy = false;
    };
    try {
      client = await this.pool.connect();
      client.on('error', onError);
      const c = client;
      if (!staged.has(c)) {
        await c.query(STAGING);
        staged.add(c);
      }
      // Identity order, by the native string sort (hex sorts as the bytes do).
      let sorted = [...rows.keys()].sort().map((k) => rows.get(k)!);
      let sharesKeys = false;
      for (const k of rows.keys()) {
        if (step.keysBefore.has(k)) {
          sharesKeys = true;
          break;
        }
      }
      let existing = sharesKeys;
      if (this.probeUnchanged && sorted.length > 0) {
        const keys = sorted.map((r) => r.keyHash).join('');
        const contents = sorted.map((r) => r.contentHash).join('');
        await c.query(beginAsTenant(job.tenantId, 'READ ONLY'));
        const differing = await c.query<{ k: string; stored: boolean }>(PROBE, [job.tenantId, job.datasetId, keys, contents]);
        await c.query('COMMIT');
        const write = new Set<string>();
        for (const { k, stored } of differing.rows) {
          write.add(k);
          if (stored) existing = true;
        }
        sorted = sorted.filter((r) => write.has(r.keyHash) || step.keysBefore.has(r.keyHash));
      }
      if (sorted.length > 0) {
        await pipeline(Readable.from(copyLines(sorted, '', '\n')), c.query(copyFrom(COPY_STAGING)));
        staging = true;
      }
      const tryDirect = sorted.length > 0 && this.direct && !existing;

      await step.afterStart;
      await c.query(`${beginAsTenant(job.tenantId)}; SET LOCAL synchronous_commit TO OFF; ${beginBatch(job.id, step.sequence)}`);
      step.started();

      let copied = false;
      if (tryDirect && this.direct) {
        await c.query('SAVEPOINT direct');
        try {
          await c.query(INSERT_NEW, [job.tenantId, job.datasetId, job.id]);
          copied = true;
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          await c.query('ROLLBACK TO SAVEPOINT direct');
          this.direct = false;
        }
      }

      if (step.sequence > 1) await c.query(AFTER_PREVIOUS, [job.id, step.sequence - 1]);
      const locked = await c.query<{ status: string; checkpoint: number; attempts: number }>(LOCK_JOB, [job.id, job.tenantId]);
      const state = locked.rows[0];
      if (state === undefined || state.status !== 'processing') {
        throw new AppError('job_cancelled', `job ${job.id} is ${state?.status ?? 'gone'}; stopping at the batch boundary`);
      }
      if (state.attempts !== job.attempt || Number(state.checkpoint) !== step.expected) {
        throw new AppError(
          'job_superseded',
          `job ${job.id} is at attempt ${state.attempts}, row ${state.checkpoint}; this run is attempt ${job.attempt} at row ${step.expected}`,
        );
      }

      let inserted = copied ? sorted.length : 0;
      let updated = 0;
      if (sorted.length > 0 && !copied) {
        const result = await c.query<{ inserted: number; updated: number }>(UPSERT, [job.tenantId, job.datasetId, job.id]);
        inserted = result.rows[0]?.inserted ?? 0;
        updated = result.rows[0]?.updated ?? 0;
      }
      if (batch.rejected.length > 0) {
        await insertRejected(c, job, batch.rejected);
      }
      const outcome: BatchOutcome = {
        rows: batch.rows,
        valid: batch.valid.length,
        invalid: batch.rejected.length,
        inserted,
        updated,
        unchanged: batch.valid.length - inserted - updated,
      };
      await c.query(ADVANCE_JOB, [
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
      await c.query('COMMIT');
      return outcome;
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => {
        healthy = false;
      });
      throw error;
    } finally {
      step.started();
      if (client !== undefined) {
        if (staging && healthy) {
          await client.query('TRUNCATE sluice_staging').catch(() => {
            healthy = false;
          });
        }
        client.off('error', onError);
        client.release(healthy ? undefined : true);
      }
    }
  }
}

/** A batch's place in its run. */
interface Step {
  /** 1, 2, … within this run: the key of the batch's advisory lock. */
  sequence: number;
  /** The checkpoint the job must be at: the end of the batch before. */
  expected: number;
  /** Identities of the batch before, which may not be committed yet. */
  keysBefore: ReadonlyMap<string, ValidRow>;
  /** Settles once the batch before has begun its transaction. */
  afterStart: Promise<void>;
  started: () => void;
}
