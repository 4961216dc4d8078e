import type { ApiKeyView, Dataset, JobView, RecordView, SourceView, Tenant, ValidationErrorRow } from '@sluice/db';
import type { FieldSpec } from '@sluice/pipeline';

const iso = (d: Date | string) => new Date(d).toISOString();
const isoOrNull = (d: Date | string | null) => (d === null ? null : iso(d));

export function tenantView(t: Tenant) {
  return { id: t.id, name: t.name, createdAt: iso(t.created_at) };
}

/** A key as listed: its prefix and dates, never the key or its hash. */
export function apiKeyView(k: ApiKeyView) {
  return {
    id: k.id,
    tenantId: k.tenant_id,
    name: k.name,
    prefix: k.prefix,
    createdAt: iso(k.created_at),
    lastUsedAt: isoOrNull(k.last_used_at),
    revokedAt: isoOrNull(k.revoked_at),
  };
}

export function datasetView(d: Dataset) {
  return { id: d.id, name: d.name, fields: d.fields as FieldSpec[], key: d.key, options: d.options, createdAt: iso(d.created_at) };
}

export function jobView(j: JobView) {
  const size = j.size_bytes ?? 0;
  const progress = j.status === 'completed' ? 1 : size > 0 ? Math.min(1, Math.round((j.bytes_read / size) * 1000) / 1000) : 0;
  return {
    id: j.id,
    status: j.status,
    dataset: j.dataset_name,
    kind: j.kind,
    sourceId: j.source_id,
    file: { name: j.file_name, format: j.format, sizeBytes: j.size_bytes, sha256: j.sha256 },
    options: j.options,
    reading: j.reading,
    counts: {
      rows: j.rows_seen,
      valid: j.rows_valid,
      invalid: j.rows_invalid,
      inserted: j.rows_inserted,
      updated: j.rows_updated,
      unchanged: j.rows_unchanged,
    },
    progress,
    attempts: j.attempts,
    error: j.error,
    correlationId: j.correlation_id,
    createdAt: iso(j.created_at),
    startedAt: isoOrNull(j.started_at),
    finishedAt: isoOrNull(j.finished_at),
  };
}

export function recordView(r: RecordView) {
  return {
    id: String(r.id),
    dataset: r.dataset_name,
    data: r.data,
    jobId: r.last_job_id,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function validationErrorView(e: ValidationErrorRow) {
  return { row: e.row_number, line: e.line, lineEnd: e.line_end, raw: e.raw, values: e.values, errors: e.errors };
}

/** A source as the API shows it: a secret header's value never leaves the server. */
export function sourceView(s: SourceView, nextRunAt: Date | null) {
  return {
    id: s.id,
    name: s.name,
    dataset: s.dataset_name,
    url: s.url,
    method: s.method,
    headers: Object.fromEntries(s.headers.map((h) => [h.name, h.secret ? { secret: true } : h.value])),
    body: s.body ?? null,
    itemsPath: s.items_path,
    pagination: s.pagination,
    maxPages: s.max_pages,
    schedule: s.schedule,
    incremental: s.incremental,
    state: s.state,
    nextRunAt: isoOrNull(nextRunAt),
    lastRunAt: isoOrNull(s.last_run_at),
    lastSuccessAt: isoOrNull(s.last_success_at),
    createdAt: iso(s.created_at),
    updatedAt: iso(s.updated_at),
  };
}
