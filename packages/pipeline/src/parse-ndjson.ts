import type { RowChunk, SourceRow, StepContext } from './rows.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Makes a row from one JSON text; a text that is not a JSON object becomes a row with a `problem`. */
export function jsonRow(raw: string, row: number, line: number | null, lineEnd: number | null): SourceRow {
  const source: SourceRow = { row, line, lineEnd, raw, cells: null, values: null };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    source.problem = `is not valid JSON: ${(error as Error).message}`;
    return source;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) source.values = value as Record<string, unknown>;
  else source.problem = `is ${describe(value)}, expected a JSON object`;
  return source;
}

/**
 * NDJSON text → rows: one JSON object per line, blank lines skipped. A line that is not a
 * JSON object is a rejected row, not a failed file: each line stands alone.
 */
export async function* parseNdjson(text: AsyncIterable<string>, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  let pending = '';
  let line = 0;
  let row = 0;
  const take = (l: string, rows: SourceRow[]) => {
    line++;
    const raw = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (raw.trim().length > 0) rows.push(jsonRow(raw, ++row, line, line));
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
  }
  const rows: SourceRow[] = [];
  if (pending.length > 0) take(pending, rows);
  if (rows.length > 0) yield { columns: null, rows };
}
