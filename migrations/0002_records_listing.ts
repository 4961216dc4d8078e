import { sql, type Kysely } from 'kysely';

/**
 * Records are listed in identity order, on the unique (tenant, dataset, key hash) index that
 * every write maintains anyway. The (tenant, dataset, id) index goes: it cost every insert a
 * third index entry, and with stale statistics the planner took it for key lookups,
 * scanning a whole dataset once per key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX records_dataset_id`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX records_dataset_id ON records (tenant_id, dataset_id, id)`.execute(db);
}
