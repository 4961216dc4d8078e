import { sql, type Kysely } from 'kysely';
import type { ApiKey, DB, Tenant } from './schema.js';

/** A key as it may be shown: never its hash. */
export type ApiKeyView = Omit<ApiKey, 'key_hash'>;

const KEY_COLUMNS = ['id', 'tenant_id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'] as const;

/** Inserts the tenant; the transaction must be scoped to `id` (row-level security checks it). */
export async function insertTenant(db: Kysely<DB>, id: string, name: string): Promise<Tenant> {
  return db.insertInto('tenants').values({ id, name }).returningAll().executeTakeFirstOrThrow();
}

/** Every tenant, oldest first: an admin's question, answered across tenants by `sluice_tenants()`. */
export async function listTenants(db: Kysely<DB>): Promise<Tenant[]> {
  const { rows } = await sql<Tenant>`SELECT id, name, created_at FROM sluice_tenants()`.execute(db);
  return rows;
}

export async function insertApiKey(
  db: Kysely<DB>,
  key: { tenantId: string; name: string; prefix: string; hash: Buffer },
): Promise<ApiKeyView> {
  return db
    .insertInto('api_keys')
    .values({ tenant_id: key.tenantId, name: key.name, prefix: key.prefix, key_hash: key.hash, last_used_at: null, revoked_at: null })
    .returning(KEY_COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function listApiKeys(db: Kysely<DB>, tenantId: string): Promise<ApiKeyView[]> {
  return db.selectFrom('api_keys').select(KEY_COLUMNS).where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
}

/** Revokes the tenant's key named by id or prefix; undefined when it has no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(db: Kysely<DB>, tenantId: string, idOrPrefix: string): Promise<ApiKeyView | undefined> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  return db
    .updateTable('api_keys')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('tenant_id', '=', tenantId)
    .where(byId ? 'id' : 'prefix', '=', idOrPrefix)
    .returning(KEY_COLUMNS)
    .executeTakeFirst();
}

/**
 * The live key whose SHA-256 is `hash`, with its tenant; undefined for an unknown or revoked
 * key. Asked before any tenant is known, through `sluice_authenticate()`.
 */
export async function authenticateApiKey(db: Kysely<DB>, hash: Buffer): Promise<{ keyId: string; tenantId: string } | undefined> {
  const { rows } = await sql<{ key_id: string; tenant_id: string }>`SELECT key_id, tenant_id FROM sluice_authenticate(${hash})`.execute(db);
  const row = rows[0];
  return row === undefined ? undefined : { keyId: row.key_id, tenantId: row.tenant_id };
}
