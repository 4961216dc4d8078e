import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from './schema.js';

/** What `withTenant` runs, for code on a raw pg client (the writers): `$1` is the tenant. */
export const SET_TENANT = "SELECT set_config('app.tenant_id', $1, true)";

/**
 * Runs `fn` in a transaction that row-level security scopes to `tenantId`: the tenant is
 * set with `set_config('app.tenant_id', …, true)`, so it ends with the transaction and a
 * pooled connection never carries it to the next caller. Queries still name their tenant;
 * this is the second lock, so that one that forgets returns nothing.
 *
 * @example
 * const job = await withTenant(db, tenantId, (trx) => findJob(trx, tenantId, id));
 */
export async function withTenant<T>(db: Kysely<DB>, tenantId: string, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('app.tenant_id', ${tenantId}, true)`.execute(trx);
    return fn(trx);
  });
}
