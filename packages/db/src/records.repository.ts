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

/**
 * Records of a dataset in identity order (by key hash): a stable keyset walk over the unique
 * index, however the dataset changes meanwhile. `cursor` is the last key of the previous page.
 */
export async function listRecords(
  db: Kysely<DB>,
  tenantId: string,
  filter: { datasetId: string; limit: number; cursor?: string | undefined },
): Promise<RecordView[]> {
  let query = records(db, tenantId).where('r.dataset_id', '=', filter.datasetId);
  if (filter.cursor !== undefined) query = query.where('r.key_hash', '>', sql<Buffer>`decode(${filter.cursor}, 'hex')`);
  return query.orderBy('r.key_hash').limit(filter.limit).execute();
}

export async function findRecord(db: Kysely<DB>, tenantId: string, id: number): Promise<RecordView | undefined> {
  return records(db, tenantId).where('r.id', '=', id).executeTakeFirst();
}
