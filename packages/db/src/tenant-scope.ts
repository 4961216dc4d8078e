import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID as an SQL literal, for statements sent without parameters; anything else throws. */
export function uuidLiteral(id: string): string {
  if (!UUID.test(id)) throw new TypeError(`expected a UUID, not ${JSON.stringify(id)}`);
  return `'${id}'`;
}

/**
 * The statement that opens a transaction scoped to `tenantId`: `BEGIN` (with `mode`, e.g.
 * `READ ONLY`) and `set_config('app.tenant_id', …, true)`, so the tenant ends with the
 * transaction and a pooled connection never carries it to the next caller.
 *
 * One round trip instead of two: sent as a simple query, which may hold several statements
 * but no parameters, so the tenant goes in as a literal (a UUID, checked: nothing to quote).
 */
export function beginAsTenant(tenantId: string, mode = ''): string {
  return `BEGIN${mode === '' ? '' : ` ${mode}`}; SELECT set_config('app.tenant_id', ${uuidLiteral(tenantId)}, true)`;
}

/**
 * Runs `fn` in a transaction that row-level security scopes to `tenantId` (see
 * `beginAsTenant`); commits when it resolves, rolls back when it throws. Queries still name
 * their tenant; this is the second lock, so that one that forgets returns nothing.
 *
 * @example
 * const job = await withTenant(db, tenantId, (trx) => findJob(trx, tenantId, id));
 */
export async function withTenant<T>(db: Kysely<DB>, tenantId: string, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  const begin = sql.raw(beginAsTenant(tenantId));
  return db.connection().execute(async (conn) => {
    await begin.execute(conn);
    let result: T;
    try {
      result = await fn(conn);
    } catch (error) {
      await sql.raw('ROLLBACK').execute(conn);
      throw error;
    }
    await sql.raw('COMMIT').execute(conn);
    return result;
  });
}
