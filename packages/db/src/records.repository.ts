import { sql, type Kysely } from 'kysely';
import type { DB, RecordRow } from './schema.js';

export type RecordView = Pick<RecordRow, 'id' | 'data' | 'last_job_id' | 'created_at' | 'updated_at'> & {
  dataset_name: string;
  key: string;
};

function records(db: Kysely<DB>, tenantId: string) {
  return db
    .selectFrom('records as r')
    .innerJoin('datasets as d', 'd.id', 'r.dataset_id')
    .select([
      'r.id',
      'r.data',
      'r.last_job_id',
      'r.created_at',
      'r.updated_at',
      'd.name as dataset_name',
      sql<string>`encode(r.key_hash, 'hex')`.as('key'),
    ])
    .where('r.tenant_id', '=', tenantId);
}

/** What `listRecords` can narrow a dataset's records by; every filter is optional. */
export interface RecordFilter {
  /** Records last written (inserted or updated) by this job. */
  jobId?: string | undefined;
  /** Records last written by a run of this source. */
  sourceId?: string | undefined;
  /** `updated_at` at or after `since`, and before `until`. */
  since?: Date | undefined;
  until?: Date | undefined;
  /** Fields of `data` that must equal these values (JSON containment). */
  data?: Record<string, unknown> | undefined;
}

/**
 * Records of a dataset in identity order (by key hash): a stable keyset walk over the unique
 * index, however the dataset changes meanwhile. `cursor` is the last key of the previous page.
 * Filters narrow the walk without changing its order, so pages stay stable with them too.
 */
export async function listRecords(
  db: Kysely<DB>,
  tenantId: string,
  filter: { datasetId: string; limit: number; cursor?: string | undefined } & RecordFilter,
): Promise<RecordView[]> {
  let query = records(db, tenantId).where('r.dataset_id', '=', filter.datasetId);
  if (filter.cursor !== undefined) query = query.where('r.key_hash', '>', sql<Buffer>`decode(${filter.cursor}, 'hex')`);
  if (filter.jobId !== undefined) query = query.where('r.last_job_id', '=', filter.jobId);
  if (filter.sourceId !== undefined) {
    query = query.where(
      sql<boolean>`r.last_job_id IN (SELECT id FROM ingestion_jobs WHERE tenant_id = ${tenantId} AND source_id = ${filter.sourceId})`,
    );
  }
  if (filter.since !== undefined) query = query.where('r.updated_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('r.updated_at', '<', filter.until);
  if (filter.data !== undefined && Object.keys(filter.data).length > 0) {
    query = query.where(sql<boolean>`r.data @> ${JSON.stringify(filter.data)}::jsonb`);
  }
  return query.orderBy('r.key_hash').limit(filter.limit).execute();
}

export async function findRecord(db: Kysely<DB>, tenantId: string, id: number): Promise<RecordView | undefined> {
  return records(db, tenantId).where('r.id', '=', id).executeTakeFirst();
}
