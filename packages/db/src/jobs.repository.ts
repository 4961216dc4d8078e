import { sql, type Kysely } from 'kysely';
import type { DB, Job, JobErrorInfo, JobStatus, NewJob } from './schema.js';

/** A job with its dataset's name, as the API shows it. */
export type JobView = Job & { dataset_name: string };

function withDataset(db: Kysely<DB>) {
  return db
    .selectFrom('ingestion_jobs as j')
    .innerJoin('datasets as d', 'd.id', 'j.dataset_id')
    .selectAll('j')
    .select('d.name as dataset_name');
}

export async function insertJob(db: Kysely<DB>, job: NewJob): Promise<Job> {
  return db.insertInto('ingestion_jobs').values(job).returningAll().executeTakeFirstOrThrow();
}

export async function findJob(db: Kysely<DB>, tenantId: string, id: string): Promise<JobView | undefined> {
  return withDataset(db).where('j.tenant_id', '=', tenantId).where('j.id', '=', id).executeTakeFirst();
}

export async function findJobByIdempotencyKey(db: Kysely<DB>, tenantId: string, key: string): Promise<JobView | undefined> {
  return withDataset(db).where('j.tenant_id', '=', tenantId).where('j.idempotency_key', '=', key).executeTakeFirst();
}

/** Jobs newest first; `cursor` is the id of the last job of the previous page. */
export async function listJobs(
  db: Kysely<DB>,
  tenantId: string,
  filter: { status?: JobStatus | undefined; datasetId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<JobView[]> {
  let query = withDataset(db).where('j.tenant_id', '=', tenantId);
  if (filter.status !== undefined) query = query.where('j.status', '=', filter.status);
  if (filter.datasetId !== undefined) query = query.where('j.dataset_id', '=', filter.datasetId);
  if (filter.cursor !== undefined) {
    query = query.where(
      sql<boolean>`(j.created_at, j.id) < (SELECT created_at, id FROM ingestion_jobs WHERE tenant_id = ${tenantId} AND id = ${filter.cursor})`,
    );
  }
  return query.orderBy('j.created_at', 'desc').orderBy('j.id', 'desc').limit(filter.limit).execute();
}

/**
 * Claims a job for processing: counts the attempt and stamps the start. Returns undefined
 * when the job is no longer open (completed, failed for good or cancelled meanwhile).
 */
export async function startJob(db: Kysely<DB>, tenantId: string, id: string): Promise<Job | undefined> {
  return db
    .updateTable('ingestion_jobs')
    .set({
      status: 'processing',
      attempts: sql`attempts + 1`,
      started_at: sql`coalesce(started_at, now())`,
      error: null,
      updated_at: sql`now()`,
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'processing'])
    .returningAll()
    .executeTakeFirst();
}

/** Marks the job completed, if `attempt` (the run's fencing token) still owns it. */
export async function completeJob(db: Kysely<DB>, tenantId: string, id: string, attempt: number): Promise<void> {
  await db
    .updateTable('ingestion_jobs')
    .set({ status: 'completed', finished_at: sql`now()`, bytes_read: sql`coalesce(size_bytes, bytes_read)`, updated_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'processing')
    .where('attempts', '=', attempt)
    .execute();
}

/**
 * Records why a job failed; `final` ends it, otherwise it waits for its next attempt. With
 * `attempt`, only if that run still owns the job: a run that lost it must not rewrite it.
 */
export async function failJob(
  db: Kysely<DB>,
  tenantId: string,
  id: string,
  error: JobErrorInfo,
  final: boolean,
  attempt?: number,
): Promise<void> {
  await db
    .updateTable('ingestion_jobs')
    .set({
      status: final ? 'failed' : 'queued',
      error: JSON.stringify(error),
      finished_at: final ? sql`now()` : null,
      updated_at: sql`now()`,
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'processing'])
    .$if(attempt !== undefined, (q) => q.where('attempts', '=', attempt!))
    .execute();
}

export async function saveJobColumns(db: Kysely<DB>, tenantId: string, id: string, columns: readonly string[]): Promise<void> {
  await db
    .updateTable('ingestion_jobs')
    .set({ columns: JSON.stringify(columns) })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/**
 * Cancels a job that is queued or processing. A running worker sees it at its next batch
 * boundary and stops; what it committed stays. Returns false when the job was not open.
 */
export async function cancelJob(db: Kysely<DB>, tenantId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('ingestion_jobs')
    .set({ status: 'cancelled', finished_at: sql`now()`, updated_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'processing'])
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Opens a failed or cancelled job again, keeping its checkpoint and counts: the next run
 * resumes after the last committed row. Returns false when the job was not in such a state.
 */
export async function reopenJob(db: Kysely<DB>, tenantId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('ingestion_jobs')
    .set({ status: 'queued', error: null, finished_at: null, updated_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', 'in', ['failed', 'cancelled'])
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
