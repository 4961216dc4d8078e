import { sql, type Kysely } from 'kysely';

/**
 * API keys, and the second lock on tenancy: row-level security.
 *
 * The API and the worker connect as (or `SET ROLE` to) `sluice_app`, which owns no table
 * and is subject to every policy. A policy lets a row through only when its tenant is the
 * one set with `set_config('app.tenant_id', …, true)` in the current transaction; with none
 * set, a query sees nothing and can write nothing. The few questions that must cross tenants
 * (which tenant owns this key? which open jobs has Redis lost?) are asked through
 * SECURITY DEFINER functions that answer exactly that and nothing more. They run as the
 * migrating role, which row-level security binds too (FORCE); an `owner_access` policy lets
 * that role, and only it, read the three tables those functions need.
 *
 * Tables added by later migrations get the role's privileges by default, but each must
 * enable and force row-level security and create its own `tenant_isolation` policy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_app') THEN
        CREATE ROLE sluice_app NOLOGIN;
      END IF;
    END $$;

    CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id),
      name text NOT NULL,
      prefix text NOT NULL UNIQUE,
      key_hash bytea NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

    GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, api_keys, datasets, ingestion_jobs, records, validation_errors TO sluice_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sluice_app;
    GRANT SELECT ON kysely_migration, kysely_migration_lock TO sluice_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sluice_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sluice_app;
  `.execute(db);

  await sql`
    ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
    ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON tenants
      USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid);
  `.execute(db);
  for (const table of ['api_keys', 'datasets', 'ingestion_jobs', 'records', 'validation_errors']) {
    await sql`
      ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY;
      ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON ${sql.table(table)}
        USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
    `.execute(db);
  }

  for (const table of ['tenants', 'api_keys', 'ingestion_jobs']) {
    await sql`CREATE POLICY owner_access ON ${sql.table(table)} TO CURRENT_USER USING (true)`.execute(db);
  }

  // Authentication happens before a tenant is known: the key's hash is the question, its
  // tenant the answer. last_used_at moves at most once a minute, so busy keys do not
  // rewrite their row on every request.
  await sql`
    CREATE FUNCTION sluice_authenticate(p_key_hash bytea)
    RETURNS TABLE (key_id uuid, tenant_id uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $fn$
      UPDATE api_keys SET last_used_at = now()
      WHERE key_hash = p_key_hash AND revoked_at IS NULL
        AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
      SELECT id, tenant_id FROM api_keys WHERE key_hash = p_key_hash AND revoked_at IS NULL;
    $fn$;

    CREATE FUNCTION sluice_stale_jobs(p_idle_ms bigint, p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid, correlation_id text, status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $fn$
      SELECT id, tenant_id, correlation_id, status FROM ingestion_jobs
      WHERE status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => p_idle_ms / 1000.0)
      ORDER BY updated_at
      LIMIT p_limit;
    $fn$;

    CREATE FUNCTION sluice_tenants()
    RETURNS TABLE (id uuid, name text, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $fn$
      SELECT id, name, created_at FROM tenants ORDER BY created_at, id;
    $fn$;

    REVOKE EXECUTE ON FUNCTION sluice_authenticate(bytea), sluice_stale_jobs(bigint, integer), sluice_tenants() FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION sluice_authenticate(bytea), sluice_stale_jobs(bigint, integer), sluice_tenants() TO sluice_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP FUNCTION sluice_authenticate(bytea);
    DROP FUNCTION sluice_stale_jobs(bigint, integer);
    DROP FUNCTION sluice_tenants();
  `.execute(db);
  for (const table of ['tenants', 'api_keys', 'ingestion_jobs']) {
    await sql`DROP POLICY owner_access ON ${sql.table(table)}`.execute(db);
  }
  for (const table of ['tenants', 'api_keys', 'datasets', 'ingestion_jobs', 'records', 'validation_errors']) {
    await sql`
      DROP POLICY tenant_isolation ON ${sql.table(table)};
      ALTER TABLE ${sql.table(table)} NO FORCE ROW LEVEL SECURITY;
      ALTER TABLE ${sql.table(table)} DISABLE ROW LEVEL SECURITY;
    `.execute(db);
  }
  await sql`
    ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM sluice_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM sluice_app;
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM sluice_app;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM sluice_app;
    DROP TABLE api_keys;
  `.execute(db);
}
