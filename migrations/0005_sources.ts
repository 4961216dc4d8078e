import { sql, type Kysely } from 'kysely';

/**
 * Pull sources, and where a job came from. A source holds its configuration, its schedule
 * and its incremental state; each run is an ingestion job (kind `pull`) that names it.
 *
 * Indexes: `ingestion_jobs_source` serves a source's run list (newest first) and the
 * "last successful run per source" of the stats; `ingestion_jobs_source_open` lets at most
 * one run of a source be open at a time, race-free; `ingestion_jobs_tenant_kind_created`
 * serves the stats' per-day and per-way totals over the last 30 days. `records` gets no new
 * index: every index there is paid by every row of every bulk load, and its filters ride
 * the keyset walk of the unique (tenant, dataset, key hash) index.
 *
 * Like every tenant table, `sources` is under forced row-level security (see 0003): the app
 * role's default privileges reach it, its policy admits only the transaction's tenant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sources (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id),
      dataset_id uuid NOT NULL REFERENCES datasets (id),
      name text NOT NULL,
      url text NOT NULL,
      method text NOT NULL DEFAULT 'GET',
      headers jsonb NOT NULL DEFAULT '[]',
      body jsonb,
      items_path text,
      pagination jsonb NOT NULL,
      schedule jsonb,
      incremental jsonb,
      max_pages integer,
      state jsonb,
      last_run_at timestamptz,
      last_success_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, name)
    );

    ALTER TABLE ingestion_jobs ADD COLUMN source_id uuid REFERENCES sources (id) ON DELETE SET NULL;
    CREATE INDEX ingestion_jobs_source ON ingestion_jobs (tenant_id, source_id, created_at DESC, id DESC) WHERE source_id IS NOT NULL;
    CREATE UNIQUE INDEX ingestion_jobs_source_open ON ingestion_jobs (source_id) WHERE source_id IS NOT NULL AND status IN ('queued', 'processing');
    CREATE INDEX ingestion_jobs_tenant_kind_created ON ingestion_jobs (tenant_id, created_at, dataset_id, kind);

    ALTER TABLE sources ENABLE ROW LEVEL SECURITY;
    ALTER TABLE sources FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON sources USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX ingestion_jobs_tenant_kind_created;
    ALTER TABLE ingestion_jobs DROP COLUMN source_id;
    DROP TABLE sources;
  `.execute(db);
}
