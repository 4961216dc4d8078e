// Helpers shared by the integration suites (not a test file: jest only runs *.test.ts).
import { sql } from 'kysely';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { postJson, upload, waitForJob, type JobBody, type TestStack } from '../helpers/stack.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** SHA-256 of the bytes (a string counts as its UTF-8 bytes), lowercase hex. */
export function sha256(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file (not directory) under `dir`, recursively, as paths relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string) => {
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * Asserts the one error shape: `{"error": {"code", "message", "details"?}}` and nothing
 * else, with the given status and code and a message a person can read.
 */
export function expectError(res: { status: number; body: unknown }, status: number, code: string): { code: string; message: string; details?: unknown } {
  expect({ status: res.status, code: (res.body as { error?: { code?: unknown } } | null)?.error?.code }).toEqual({ status, code });
  const body = res.body as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  const error = body.error as Record<string, unknown>;
  expect(['code', 'details', 'message']).toEqual(expect.arrayContaining(Object.keys(error)));
  expect(Object.keys(error)).toEqual(expect.arrayContaining(['code', 'message']));
  expect(typeof error.message).toBe('string');
  expect((error.message as string).length).toBeGreaterThan(0);
  return error as { code: string; message: string; details?: unknown };
}

/** Any request; the body is parsed as JSON when the response says it is JSON. */
export async function request(stack: TestStack, method: string, url: string, init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {}) {
  const res = await fetch(stack.baseUrl + url, { method, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
  return { status: res.status, headers: res.headers, text, body: (isJson ? JSON.parse(text) : undefined) as Record<string, any> };
}

export type Part = { name: string; value: string } | { name: string; file: string | Uint8Array; fileName: string; contentType?: string };

/** A multipart POST /upload with the parts in exactly the given order. */
export async function uploadParts(stack: TestStack, parts: Part[], headers: Record<string, string> = {}) {
  const form = new FormData();
  for (const p of parts) {
    if ('value' in p) form.append(p.name, p.value);
    else form.append(p.name, new Blob([p.file], { type: p.contentType ?? 'application/octet-stream' }), p.fileName);
  }
  return request(stack, 'POST', '/upload', { body: form, headers });
}

/** Defines a dataset and asserts it was created. */
export async function createDataset(stack: TestStack, spec: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await postJson(stack, '/datasets', spec);
  expect({ status: res.status, body: res.body }).toEqual({ status: 201, body: expect.objectContaining({ name: spec.name }) });
  return res.body;
}

/** Uploads a file, asserts 202 + Location, waits for the job's end, and returns both. */
export async function ingest(
  stack: TestStack,
  dataset: string,
  fileName: string,
  content: string | Uint8Array,
  options: { fields?: Record<string, string>; headers?: Record<string, string>; contentType?: string } = {},
): Promise<{ accepted: Record<string, any>; job: JobBody }> {
  const res = await upload(stack, fileName, content, { dataset, ...options.fields }, { headers: options.headers ?? {}, ...(options.contentType ? { contentType: options.contentType } : {}) });
  expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 202, location: `/jobs/${res.body.id}` });
  const job = await waitForJob(stack, res.body.id);
  return { accepted: res.body, job };
}

/** A dataset's records straight from the table, in id order. */
export async function recordRows(stack: TestStack, dataset: string) {
  const { rows } = await sql<{
    id: number;
    data: Record<string, unknown>;
    key_hash: string;
    content_hash: string;
    first_job_id: string;
    last_job_id: string;
    created_at: Date;
    updated_at: Date;
  }>`SELECT r.id, r.data, encode(r.key_hash, 'hex') AS key_hash, encode(r.content_hash, 'hex') AS content_hash,
            r.first_job_id, r.last_job_id, r.created_at, r.updated_at
     FROM records r JOIN datasets d ON d.id = r.dataset_id
     WHERE d.name = ${dataset} ORDER BY r.id`.execute(stack.db);
  return rows;
}

/**
 * A dataset's records' data straight from the table, sorted by `sortKey` (ids within one
 * batch follow the upsert's key order, not the file's, so tests compare by a field).
 */
export async function recordData(stack: TestStack, dataset: string, sortKey = 'email'): Promise<Array<Record<string, unknown>>> {
  return bySortKey((await recordRows(stack, dataset)).map((r) => r.data), sortKey);
}

export function bySortKey<T extends Record<string, unknown>>(rows: T[], key = 'email'): T[] {
  return [...rows].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

export async function countRows(stack: TestStack, table: 'ingestion_jobs' | 'records' | 'validation_errors' | 'datasets'): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(stack.db);
  return rows[0]!.n;
}

/** A job's rejected rows straight from the table, in row order. */
export async function validationErrorRows(stack: TestStack, jobId: string) {
  const { rows } = await sql<{ row_number: number; line: number | null; line_end: number | null; raw: string; errors: Array<{ field: string | null; message: string }> }>`
    SELECT row_number, line, line_end, raw, errors FROM validation_errors WHERE job_id = ${jobId} ORDER BY row_number`.execute(stack.db);
  return rows;
}

/**
 * Follows `nextCursor` from the first page to the last and returns every page. Fails when a
 * page repeats an item, when pages never end, or when a page is larger than `limit`.
 */
export async function walkPages(stack: TestStack, url: string, limit: number, idOf: (item: any) => string | number = (i) => i.id) {
  const pages: Array<{ items: any[]; nextCursor: string | null }> = [];
  let cursor: string | null = null;
  const sep = url.includes('?') ? '&' : '?';
  for (let guard = 0; guard < 1000; guard++) {
    const res = await request(stack, 'GET', `${url}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    pages.push(res.body as { items: any[]; nextCursor: string | null });
    cursor = res.body.nextCursor as string | null;
    if (cursor === null) break;
    expect(typeof cursor).toBe('string');
  }
  expect(pages.at(-1)!.nextCursor).toBeNull();
  const items = pages.flatMap((p) => p.items);
  const ids = items.map(idOf);
  expect(new Set(ids).size).toBe(ids.length);
  return { pages, items, ids };
}

/**
 * Polls `probe` until it returns true, for things with no event to await (a file the server
 * removes after a client hangs up). Fails with `what` after `timeoutMs`.
 */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A small RFC 4180 reader for checking downloaded CSV: records of cells, quotes undone. */
export function parseCsvText(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
    } else cell += c;
  }
  if (cell.length > 0 || record.length > 0) records.push([...record, cell]);
  return records;
}

/**
 * Cancels the statements of the stack's own (per-file) database that wait on a lock, so that
 * `stack.close()` can stop the worker after a test caught a job hanging on one. The waiting
 * statement fails, its job fails, and the worker lets go. A no-op when nothing waits.
 */
export async function cancelLockWaits(stack: TestStack): Promise<number> {
  const { rows } = await sql<{ cancelled: boolean }>`
    SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND wait_event_type = 'Lock'`.execute(stack.db);
  return rows.length;
}
