import { sql, type Kysely } from 'kysely';
import type { BatchOutcome } from './batch-writer.js';
import type { DB, JobKind } from './schema.js';

/** A batch's row counters, summed over jobs, and how many jobs. */
export interface RowTotals extends BatchOutcome {
  jobs: number;
}

export interface DatasetWayTotals extends RowTotals {
  dataset_id: string;
  dataset_name: string;
  kind: JobKind;
}

export interface DailyTotals {
  day: string;
  rows: number;
  valid: number;
  invalid: number;
}

export interface SourceSummary {
  id: string;
  name: string;
  dataset_name: string;
  last_run_at: Date | null;
  last_success_at: Date | null;
  last_success_job_id: string | null;
  open_run_job_id: string | null;
}

const SUMS = sql<string>`count(*)::int AS jobs, coalesce(sum(j.rows_seen), 0)::bigint AS rows, coalesce(sum(j.rows_valid), 0)::bigint AS valid,
  coalesce(sum(j.rows_invalid), 0)::bigint AS invalid, coalesce(sum(j.rows_inserted), 0)::bigint AS inserted,
  coalesce(sum(j.rows_updated), 0)::bigint AS updated, coalesce(sum(j.rows_unchanged), 0)::bigint AS unchanged`;

const numbers = <T extends object>(row: T): T =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])) as T;

/** Job counters per dataset and way in (upload, push, pull), over every job the tenant ran. */
export async function totalsByDatasetAndWay(db: Kysely<DB>, tenantId: string, datasetId?: string): Promise<DatasetWayTotals[]> {
  const { rows } = await sql<DatasetWayTotals>`
    SELECT j.dataset_id, d.name AS dataset_name, j.kind, ${SUMS}
    FROM ingestion_jobs j JOIN datasets d ON d.id = j.dataset_id
    WHERE j.tenant_id = ${tenantId} ${datasetId === undefined ? sql`` : sql`AND j.dataset_id = ${datasetId}`}
    GROUP BY j.dataset_id, d.name, j.kind
    ORDER BY d.name, j.kind`.execute(db);
  return rows.map(numbers);
}

/** How many records each dataset holds now (an index-only count of the identity index). */
export async function recordCounts(db: Kysely<DB>, tenantId: string, datasetId?: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ dataset_id: string; n: string }>`
    SELECT dataset_id, count(*) AS n FROM records
    WHERE tenant_id = ${tenantId} ${datasetId === undefined ? sql`` : sql`AND dataset_id = ${datasetId}`}
    GROUP BY dataset_id`.execute(db);
  return new Map(rows.map((r) => [r.dataset_id, Number(r.n)]));
}

/** Rows taken in per UTC day over the last `days` days, today included, days without any as zeros. */
export async function dailyTotals(db: Kysely<DB>, tenantId: string, days: number, datasetId?: string): Promise<DailyTotals[]> {
  const { rows } = await sql<DailyTotals>`
    WITH span AS (
      SELECT generate_series((now() AT TIME ZONE 'UTC')::date - ${days - 1}::int, (now() AT TIME ZONE 'UTC')::date, interval '1 day')::date AS day
    ), sums AS (
      SELECT (j.created_at AT TIME ZONE 'UTC')::date AS day, sum(j.rows_seen) AS rows, sum(j.rows_valid) AS valid, sum(j.rows_invalid) AS invalid
      FROM ingestion_jobs j
      WHERE j.tenant_id = ${tenantId} AND j.created_at >= ((now() AT TIME ZONE 'UTC')::date - ${days - 1}::int) AT TIME ZONE 'UTC'
        ${datasetId === undefined ? sql`` : sql`AND j.dataset_id = ${datasetId}`}
      GROUP BY 1
    )
    SELECT to_char(span.day, 'YYYY-MM-DD') AS day, coalesce(s.rows, 0)::bigint AS rows, coalesce(s.valid, 0)::bigint AS valid,
      coalesce(s.invalid, 0)::bigint AS invalid
    FROM span LEFT JOIN sums s ON s.day = span.day
    ORDER BY span.day`.execute(db);
  return rows.map(numbers);
}

/** Each source with its last run, its last success and the job of that success. */
export async function sourceSummaries(db: Kysely<DB>, tenantId: string, datasetId?: string): Promise<SourceSummary[]> {
  const { rows } = await sql<SourceSummary>`
    SELECT s.id, s.name, d.name AS dataset_name, s.last_run_at, s.last_success_at, ok.id AS last_success_job_id, open.id AS open_run_job_id
    FROM sources s
    JOIN datasets d ON d.id = s.dataset_id
    LEFT JOIN LATERAL (
      SELECT j.id FROM ingestion_jobs j
      WHERE j.tenant_id = ${tenantId} AND j.source_id = s.id AND j.status = 'completed'
      ORDER BY j.created_at DESC, j.id DESC LIMIT 1
    ) ok ON true
    LEFT JOIN LATERAL (
      SELECT j.id FROM ingestion_jobs j
      WHERE j.tenant_id = ${tenantId} AND j.source_id = s.id AND j.status IN ('queued', 'processing') LIMIT 1
    ) open ON true
    WHERE s.tenant_id = ${tenantId} ${datasetId === undefined ? sql`` : sql`AND s.dataset_id = ${datasetId}`}
    ORDER BY s.name`.execute(db);
  return rows;
}
