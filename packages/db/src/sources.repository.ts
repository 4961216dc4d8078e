import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { JobView } from './jobs.repository.js';
import type { DB, Source, SourcesTable } from './schema.js';

/** A source with its dataset's name, as the API shows it. */
export type SourceView = Source & { dataset_name: string };

function withDataset(db: Kysely<DB>) {
  return db.selectFrom('sources as s').innerJoin('datasets as d', 'd.id', 's.dataset_id').selectAll('s').select('d.name as dataset_name');
}

export async function insertSource(db: Kysely<DB>, source: Insertable<SourcesTable>): Promise<Source> {
  return db.insertInto('sources').values(source).returningAll().executeTakeFirstOrThrow();
}

export async function findSource(db: Kysely<DB>, tenantId: string, id: string): Promise<SourceView | undefined> {
  return withDataset(db).where('s.tenant_id', '=', tenantId).where('s.id', '=', id).executeTakeFirst();
}

/** Sources by name; `cursor` is the name of the last source of the previous page. */
export async function listSources(
  db: Kysely<DB>,
  tenantId: string,
  filter: { limit: number; cursor?: string | undefined },
): Promise<SourceView[]> {
  return withDataset(db)
    .where('s.tenant_id', '=', tenantId)
    .$if(filter.cursor !== undefined, (q) => q.where('s.name', '>', filter.cursor!))
    .orderBy('s.name')
    .limit(filter.limit)
    .execute();
}

export async function updateSource(db: Kysely<DB>, tenantId: string, id: string, changes: Updateable<SourcesTable>): Promise<boolean> {
  const result = await db
    .updateTable('sources')
    .set({ ...changes, updated_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Deletes a source; its open run (if any) is cancelled, its past runs stay as jobs without
 * a source. Returns the id of the run it cancelled, or null; undefined when there was no such source.
 */
export async function deleteSource(db: Kysely<DB>, tenantId: string, id: string): Promise<{ cancelledRun: string | null } | undefined> {
  const cancelled = await db
    .updateTable('ingestion_jobs')
    .set({ status: 'cancelled', finished_at: sql`now()`, updated_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('source_id', '=', id)
    .where('status', 'in', ['queued', 'processing'])
    .returning('id')
    .executeTakeFirst();
  const result = await db.deleteFrom('sources').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n ? { cancelledRun: cancelled?.id ?? null } : undefined;
}

/**
 * Records a new run of a source: a queued ingestion job of kind `pull`, and the source's
 * `last_run_at`. A source has at most one open run (a unique index): while one is queued
 * or running, this throws PostgreSQL's unique violation.
 */
export async function insertPullRun(
  db: Kysely<DB>,
  source: Pick<Source, 'id' | 'tenant_id' | 'dataset_id'>,
  jobId: string,
  correlationId: string,
): Promise<void> {
  await db
    .insertInto('ingestion_jobs')
    .values({
      id: jobId,
      tenant_id: source.tenant_id,
      dataset_id: source.dataset_id,
      source_id: source.id,
      kind: 'pull',
      status: 'queued',
      format: 'json',
      options: JSON.stringify({}),
      file_name: null,
      storage_key: null,
      size_bytes: null,
      sha256: null,
      idempotency_key: null,
      correlation_id: correlationId,
      columns: null,
      error: null,
      started_at: null,
      finished_at: null,
    })
    .execute();
  await db
    .updateTable('sources')
    .set({ last_run_at: sql`now()` })
    .where('tenant_id', '=', source.tenant_id)
    .where('id', '=', source.id)
    .execute();
}

/** The open run of a source, if one is queued or running. */
export async function findOpenRun(db: Kysely<DB>, tenantId: string, sourceId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ingestion_jobs')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('source_id', '=', sourceId)
    .where('status', 'in', ['queued', 'processing'])
    .executeTakeFirst();
  return row?.id;
}

/**
 * Completes a pull run and, in the same transaction, moves its source's incremental state
 * to the highest value the run saw and stamps its last success. Only if `attempt` still
 * owns the job: a run that lost it changes neither. Returns whether it completed the job.
 */
export async function completePullRun(
  db: Kysely<DB>,
  tenantId: string,
  jobId: string,
  attempt: number,
  sourceId: string,
  state: { cursor: string | number } | null,
): Promise<boolean> {
  const done = await db
    .updateTable('ingestion_jobs')
    .set({ status: 'completed', finished_at: sql`now()`, updated_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .where('status', '=', 'processing')
    .where('attempts', '=', attempt)
    .executeTakeFirst();
  if (done.numUpdatedRows === 0n) return false;
  await db
    .updateTable('sources')
    .set({ last_success_at: sql`now()`, ...(state === null ? {} : { state: JSON.stringify(state) }) })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', sourceId)
    .execute();
  return true;
}

/** A source's runs newest first; `cursor` is the id of the last run of the previous page. */
export async function listSourceRuns(
  db: Kysely<DB>,
  tenantId: string,
  sourceId: string,
  filter: { limit: number; cursor?: string | undefined },
): Promise<JobView[]> {
  let query = db
    .selectFrom('ingestion_jobs as j')
    .innerJoin('datasets as d', 'd.id', 'j.dataset_id')
    .selectAll('j')
    .select('d.name as dataset_name')
    .where('j.tenant_id', '=', tenantId)
    .where('j.source_id', '=', sourceId);
  if (filter.cursor !== undefined) {
    query = query.where(
      sql<boolean>`(j.created_at, j.id) < (SELECT created_at, id FROM ingestion_jobs WHERE tenant_id = ${tenantId} AND id = ${filter.cursor})`,
    );
  }
  return query.orderBy('j.created_at', 'desc').orderBy('j.id', 'desc').limit(filter.limit).execute();
}
