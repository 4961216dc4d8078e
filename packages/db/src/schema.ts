import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string | (null extends T ? null : never), string | (null extends T ? null : never)>;

export interface TenantsTable {
  id: Generated<string>;
  name: string;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  /** The key's first characters, for finding and showing it; the key itself is never stored. */
  prefix: string;
  /** SHA-256 of the whole key. */
  key_hash: Buffer;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface DatasetsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  fields: Json<unknown[]>;
  key: string[];
  options: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';
export type JobKind = 'upload' | 'push' | 'pull';

export interface JobErrorInfo {
  code: string;
  message: string;
  line?: number | null;
  details?: unknown;
}

export interface IngestionJobsTable {
  id: string;
  tenant_id: string;
  dataset_id: string;
  kind: JobKind;
  status: JobStatus;
  format: string;
  options: Json<Record<string, unknown>>;
  file_name: string | null;
  storage_key: string | null;
  size_bytes: number | null;
  sha256: string | null;
  idempotency_key: string | null;
  correlation_id: string | null;
  columns: Json<string[] | null>;
  /** What the worker decided when it opened the file: encoding, delimiter, header, mapping. */
  reading: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  rows_seen: Generated<number>;
  rows_valid: Generated<number>;
  rows_invalid: Generated<number>;
  rows_inserted: Generated<number>;
  rows_updated: Generated<number>;
  rows_unchanged: Generated<number>;
  checkpoint: Generated<number>;
  bytes_read: Generated<number>;
  attempts: Generated<number>;
  error: Json<JobErrorInfo | null>;
  created_at: Generated<Date>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  updated_at: Generated<Date>;
  /** The source a pull run came from; null for uploads and pushes. */
  source_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A request header of a source; a secret one's value is never shown or logged. */
export interface SourceHeader {
  name: string;
  value: string;
  secret: boolean;
}

export interface SourcesTable {
  id: Generated<string>;
  tenant_id: string;
  dataset_id: string;
  name: string;
  url: string;
  method: string;
  headers: Json<SourceHeader[]>;
  body: Json<unknown>;
  items_path: string | null;
  pagination: Json<Record<string, unknown>>;
  schedule: Json<Record<string, unknown> | null>;
  incremental: Json<{ field: string; param: string } | null>;
  /** Pages a run reads at most; null for the configured default. */
  max_pages: number | null;
  /** Incremental state: the highest value of the incremental field seen by a completed run. */
  state: Json<{ cursor: string | number } | null>;
  last_run_at: Timestamp | null;
  last_success_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RecordsTable {
  id: Generated<number>;
  tenant_id: string;
  dataset_id: string;
  key_hash: Buffer;
  content_hash: Buffer;
  data: Json<Record<string, unknown>>;
  first_job_id: string;
  last_job_id: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ValidationErrorsTable {
  tenant_id: string;
  job_id: string;
  row_number: number;
  line: number | null;
  line_end: number | null;
  raw: string;
  values: Json<Record<string, unknown>>;
  errors: Json<Array<{ field: string | null; message: string }>>;
}

export interface DB {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  datasets: DatasetsTable;
  ingestion_jobs: IngestionJobsTable;
  records: RecordsTable;
  validation_errors: ValidationErrorsTable;
  sources: SourcesTable;
}

export type Tenant = Selectable<TenantsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type Dataset = Selectable<DatasetsTable>;
export type Job = Selectable<IngestionJobsTable>;
export type NewJob = Insertable<IngestionJobsTable>;
export type RecordRow = Selectable<RecordsTable>;
export type ValidationErrorRow = Selectable<ValidationErrorsTable>;
export type Source = Selectable<SourcesTable>;

