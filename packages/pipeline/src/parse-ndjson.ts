import { AppError } from '@sluice/errors';
import type { RowChunk, SourceRow, StepContext } from './rows.js';

/** Bounds on JSON input: the text of one row, and how deep its objects and arrays nest. */
export interface JsonLimits {
  maxRecordChars?: number | undefined;
  maxDepth?: number | undefined;
}

/** Whether a parsed JSON value nests deeper than `limit` (the row object itself is depth 1). */
function deeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) return value.some((v) => deeperThan(v, limit - 1));
  // Not Object.values: no array per object per row.
  for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Makes a row from one JSON text; a text that is not a JSON object becomes a row with a `problem`. */
export function jsonRow(raw: string, row: number, line: number | null, lineEnd: number | null, maxDepth = Number.MAX_SAFE_INTEGER): SourceRow {
  const source: SourceRow = { row, line, lineEnd, raw, cells: null, values: null };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    source.problem = `is not valid JSON: ${(error as Error).message}`;
    return source;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if (deeperThan(value, maxDepth)) source.problem = `nests deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`;
    else source.values = value as Record<string, unknown>;
  }
  else source.problem = `is ${describe(value)}, expected a JSON object`;
  return source;
}

/**
 * NDJSON text → rows: one JSON object per line, blank lines skipped. A line that is not a
 * JSON object is a rejected row, not a failed file: each line stands alone.
 */
export async function* parseNdjson(text: AsyncIterable<string>, limits: JsonLimits = {}, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  const maxChars = limits.maxRecordChars ?? 16 * 1024 * 1024;
  const maxDepth = limits.maxDepth ?? Number.MAX_SAFE_INTEGER;
  let pending = '';
  let line = 0;
  let row = 0;
  const take = (l: string, rows: SourceRow[]) => {
    line++;
    const raw = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (raw.trim().length > 0) rows.push(jsonRow(raw, ++row, line, line, maxDepth));
  };
  for await (const chunk of text) {
    ctx.signal?.throwIfAborted();
    const s = pending + chunk;
    const rows: SourceRow[] = [];
    let start = 0;
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', start)) {
      take(s.slice(start, nl), rows);
      start = nl + 1;
    }
    pending = s.slice(start);
    if (rows.length > 0) yield { columns: null, rows };
    if (pending.length > maxChars) {
      throw new AppError('parse_error', `line ${line + 1} is longer than ${maxChars} characters (MAX_LINE_CHARS)`, { details: { line: line + 1 } });
    }
  }
  const rows: SourceRow[] = [];
  if (pending.length > 0) take(pending, rows);
  if (rows.length > 0) yield { columns: null, rows };
}
