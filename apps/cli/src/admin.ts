import { createApiKey, createTenant, listTenantKeys, resolveTenant, revokeTenantKey } from '@sluice/auth';
import { loadConfig } from '@sluice/config';
import { assertSchemaCurrent, createDatabase, listTenants, type ApiKeyView } from '@sluice/db';
import { isAppError } from '@sluice/errors';
import { parseArgs } from 'node:util';

const USAGE = `usage: npm run admin -- <command> [--json]
  tenant create NAME [--key-name LABEL]   a tenant and its first API key (the key is shown once)
  tenant list
  key create --tenant TENANT [--key-name LABEL]
  key list --tenant TENANT
  key revoke KEY_ID_OR_PREFIX --tenant TENANT
TENANT is a tenant's name or id.`;

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    'key-name': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const config = loadConfig(process.env);
// Acts as the app's restricted role, like the API's admin endpoints: row-level security binds the admin command too.
const database = createDatabase({ url: config.databaseUrl, poolMax: 2, applicationName: 'sluice-admin', role: config.databaseRole });
const db = database.db;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const keyJson = (k: ApiKeyView) => ({
  id: k.id,
  tenantId: k.tenant_id,
  name: k.name,
  prefix: k.prefix,
  createdAt: iso(k.created_at),
  lastUsedAt: iso(k.last_used_at),
  revokedAt: iso(k.revoked_at),
});
const keyLine = (k: ApiKeyView) =>
  `${k.id}  ${k.prefix}…  ${k.name}  created ${iso(k.created_at)}${k.revoked_at ? `  REVOKED ${iso(k.revoked_at)}` : ''}`;

function out(json: unknown, text: string): void {
  process.stdout.write(`${values.json ? JSON.stringify(json, null, 2) : text}\n`);
}

function tenantOption(): string {
  if (values.tenant === undefined) throw new Error('--tenant is required');
  return values.tenant;
}

async function main(): Promise<void> {
  const [noun, verb, arg] = positionals;
  if (values.help || noun === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  await assertSchemaCurrent(db);
  const command = `${noun} ${verb ?? ''}`;
  switch (command) {
    case 'tenant create': {
      if (arg === undefined) throw new Error('tenant create needs a NAME');
      const { tenant, key, apiKey } = await createTenant(db, arg, values['key-name']);
      out(
        { tenant: { id: tenant.id, name: tenant.name }, key, apiKey: keyJson(apiKey) },
        `tenant ${tenant.name} (${tenant.id})\nAPI key (shown once, keep it now): ${key}`,
      );
      return;
    }
    case 'tenant list': {
      const tenants = await listTenants(db);
      out(
        tenants.map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.created_at) })),
        tenants.map((t) => `${t.id}  ${t.name}`).join('\n'),
      );
      return;
    }
    case 'key create': {
      const tenant = await resolveTenant(db, tenantOption());
      const { key, apiKey } = await createApiKey(db, tenant.id, values['key-name']);
      out({ key, apiKey: keyJson(apiKey) }, `API key for ${tenant.name} (shown once, keep it now): ${key}`);
      return;
    }
    case 'key list': {
      const tenant = await resolveTenant(db, tenantOption());
      const keys = await listTenantKeys(db, tenant.id);
      out(keys.map(keyJson), keys.map(keyLine).join('\n'));
      return;
    }
    case 'key revoke': {
      if (arg === undefined) throw new Error('key revoke needs a key id or prefix');
      const tenant = await resolveTenant(db, tenantOption());
      const key = await revokeTenantKey(db, tenant.id, arg);
      out(keyJson(key), `revoked ${keyLine(key)}`);
      return;
    }
    default:
      throw new Error(`unknown command "${command.trim()}"\n${USAGE}`);
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`sluice admin: ${isAppError(error) || error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
