import { sql, type Kysely } from 'kysely';
import type { Dataset, DB } from './schema.js';

/** True when `error` is PostgreSQL's unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';
}

export async function insertDataset(
  db: Kysely<DB>,
  input: { tenantId: string; name: string; fields: unknown[]; key: string[]; options?: Record<string, unknown> },
): Promise<Dataset> {
  return db
    .insertInto('datasets')
    .values({ tenant_id: input.tenantId, name: input.name, fields: JSON.stringify(input.fields), key: input.key, options: JSON.stringify(input.options ?? {}) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findDatasetByName(db: Kysely<DB>, tenantId: string, name: string): Promise<Dataset | undefined> {
  return db.selectFrom('datasets').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
}

export async function findDatasetById(db: Kysely<DB>, tenantId: string, id: string): Promise<Dataset | undefined> {
  return db.selectFrom('datasets').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

export async function listDatasets(db: Kysely<DB>, tenantId: string): Promise<Dataset[]> {
  return db.selectFrom('datasets').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
}

/** Whether the dataset holds any record yet: a first load need not look for unchanged rows. */
export async function datasetHasRecords(db: Kysely<DB>, tenantId: string, datasetId: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`
    SELECT EXISTS (SELECT 1 FROM records WHERE tenant_id = ${tenantId} AND dataset_id = ${datasetId}) AS found`.execute(db);
  return rows[0]?.found === true;
}
