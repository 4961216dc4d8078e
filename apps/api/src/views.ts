import type { Dataset, JobView, RecordView, SourceView, ValidationErrorRow } from '@sluice/db';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function datasetView(d: Dataset) {
  return { id: d.id, name: d.name, fields: d.fields, key: d.key, createdAt: iso(d.created_at) };
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
    startedAt: iso(j.started_at),
    finishedAt: iso(j.finished_at),
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
    nextRunAt: iso(nextRunAt),
    lastRunAt: iso(s.last_run_at),
    lastSuccessAt: iso(s.last_success_at),
    createdAt: iso(s.created_at),
    updatedAt: iso(s.updated_at),
  };
}
