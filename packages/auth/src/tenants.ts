import {
  insertApiKey,
  insertTenant,
  isUniqueViolation,
  listApiKeys,
  listTenants,
  revokeApiKey,
  withTenant,
  type ApiKeyView,
  type DB,
} from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { Tenant } from '@sluice/db';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { generateApiKey } from './api-key.js';

const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A key just made: the secret itself, which is shown this once and never again. */
export interface IssuedKey {
  key: string;
  apiKey: ApiKeyView;
}

/**
 * Creates a tenant and its first API key, in one transaction: a tenant never exists
 * without a way in. The admin command and the admin endpoints both come here.
 */
export async function createTenant(db: Kysely<DB>, name: string, keyName = 'default'): Promise<{ tenant: Tenant } & IssuedKey> {
  if (!TENANT_NAME.test(name)) {
    throw new AppError(
      'validation_failed',
      'a tenant name is 1-63 characters: lowercase letters, digits, "-" and "_", starting with a letter or digit',
    );
  }
  const id = randomUUID();
  try {
    return await withTenant(db, id, async (trx) => {
      const tenant = await insertTenant(trx, id, name);
      return { tenant, ...(await issue(trx, id, keyName)) };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `a tenant named "${name}" already exists`);
    throw error;
  }
}

/** Finds a tenant by id or name. */
export async function resolveTenant(db: Kysely<DB>, idOrName: string): Promise<Tenant> {
  const tenant = (await listTenants(db)).find((t) => (UUID.test(idOrName) ? t.id === idOrName.toLowerCase() : t.name === idOrName));
  if (tenant === undefined) throw new AppError('not_found', `tenant "${idOrName}" not found`);
  return tenant;
}

export async function createApiKey(db: Kysely<DB>, tenantId: string, name = 'default'): Promise<IssuedKey> {
  return withTenant(db, tenantId, (trx) => issue(trx, tenantId, name));
}

export async function listTenantKeys(db: Kysely<DB>, tenantId: string): Promise<ApiKeyView[]> {
  return withTenant(db, tenantId, (trx) => listApiKeys(trx, tenantId));
}

/** Revokes a key by id or prefix; from then on it answers 401 like any unknown key. */
export async function revokeTenantKey(db: Kysely<DB>, tenantId: string, idOrPrefix: string): Promise<ApiKeyView> {
  const key = await withTenant(db, tenantId, (trx) => revokeApiKey(trx, tenantId, idOrPrefix));
  if (key === undefined) throw new AppError('not_found', `key "${idOrPrefix}" not found`);
  return key;
}

async function issue(db: Kysely<DB>, tenantId: string, name: string): Promise<IssuedKey> {
  if (name.length === 0 || name.length > 100) throw new AppError('validation_failed', 'a key name is 1-100 characters');
  const { key, prefix, hash } = generateApiKey();
  return { key, apiKey: await insertApiKey(db, { tenantId, name, prefix, hash }) };
}
