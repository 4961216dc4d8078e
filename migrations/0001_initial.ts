import { sql, type Kysely } from 'kysely';

/**
 * The core schema. Every table carries `tenant_id`. `records` has no foreign keys: a bulk
 * upsert would pay a trigger per row for them, and its rows are only ever written by the
 * worker inside a transaction that has already checked its job and dataset.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tenants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-000000000000', 'default');

    CREATE TABLE datasets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id),
      name text NOT NULL,
      fields jsonb NOT NULL,
      key text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, name)
    );

    CREATE TABLE ingestion_jobs (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants (id),
      dataset_id uuid NOT NULL REFERENCES datasets (id),
      kind text NOT NULL CHECK (kind IN ('upload', 'push', 'pull')),
      status text NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
      format text NOT NULL,
      options jsonb NOT NULL DEFAULT '{}',
      file_name text,
      storage_key text,
      size_bytes bigint,
      sha256 text,
      idempotency_key text,
      correlation_id text,
      columns jsonb,
      rows_seen bigint NOT NULL DEFAULT 0,
      rows_valid bigint NOT NULL DEFAULT 0,
      rows_invalid bigint NOT NULL DEFAULT 0,
      rows_inserted bigint NOT NULL DEFAULT 0,
      rows_updated bigint NOT NULL DEFAULT 0,
      rows_unchanged bigint NOT NULL DEFAULT 0,
      checkpoint bigint NOT NULL DEFAULT 0,
      bytes_read bigint NOT NULL DEFAULT 0,
      attempts integer NOT NULL DEFAULT 0,
      error jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX ingestion_jobs_idempotency ON ingestion_jobs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX ingestion_jobs_tenant_created ON ingestion_jobs (tenant_id, created_at DESC, id DESC);
    CREATE INDEX ingestion_jobs_open ON ingestion_jobs (status, updated_at) WHERE status IN ('queued', 'processing');

    CREATE TABLE records (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id uuid NOT NULL,
      dataset_id uuid NOT NULL,
      key_hash bytea NOT NULL,
      content_hash bytea NOT NULL,
      data jsonb NOT NULL,
      first_job_id uuid NOT NULL,
      last_job_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, dataset_id, key_hash)
    );
    CREATE INDEX records_dataset_id ON records (tenant_id, dataset_id, id);

    CREATE TABLE validation_errors (
      tenant_id uuid NOT NULL,
      job_id uuid NOT NULL REFERENCES ingestion_jobs (id) ON DELETE CASCADE,
      row_number bigint NOT NULL,
      line bigint,
      line_end bigint,
      raw text NOT NULL,
      "values" jsonb NOT NULL,
      errors jsonb NOT NULL,
      PRIMARY KEY (job_id, row_number)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE validation_errors, records, ingestion_jobs, datasets, tenants`.execute(db);
}
