import type { DatasetSpec } from './dataset-spec.js';
import { sha256Hex } from './hash.js';
import { ColumnMapper } from './map.js';
import type { UnknownColumns } from './read-options.js';
import type { PreparedRow, RowChunk, SourceRow, StepContext } from './rows.js';
import { buildRowValidator } from './validate.js';

/** How rows are read beyond the dataset's fields. */
export interface PrepareOptions {
  decimal?: '.' | ',' | undefined;
  /** `keep` stores columns no field takes in the record, under their own names; `reject` fails a JSON row that has any. */
  unknownColumns?: UnknownColumns | undefined;
  /**
   * The encoding the text was decoded from, when a U+FFFD in a row means bytes that were not
   * valid in it. Asked at the first row, since decoding decides as the first bytes arrive.
   */
  invalidBytesIn?: (() => string | undefined) | undefined;
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Values of columns (or properties) that feed no field, trimmed, empty ones left out. */
function unknownValues(source: SourceRow, columns: readonly string[] | null, mapper: ColumnMapper): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (source.cells !== null && columns !== null) {
    columns.forEach((column, i) => {
      if (column === '' || RESERVED.has(column) || mapper.fieldFor(column) !== null) return;
      const value = source.cells![i]?.trim();
      if (value !== undefined && value !== '') out[column] = value;
    });
  } else if (source.values !== null) {
    for (const [key, value] of Object.entries(source.values)) {
      if (RESERVED.has(key) || mapper.fieldFor(key) !== null || value === null || value === undefined || value === '') continue;
      out[key] = value;
    }
  }
  return out;
}

/** The canonical (sorted-key) union of validated data and kept columns. */
function withKept(data: Record<string, unknown>, kept: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(kept);
  if (keys.length === 0) return data;
  const all: Record<string, unknown> = { ...kept, ...data };
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(all).sort()) out[k] = all[k];
  return out;
}

function originalValues(source: SourceRow, columns: readonly string[] | null): Record<string, unknown> {
  if (source.values !== null) return source.values;
  const out: Record<string, unknown> = {};
  if (source.cells !== null && columns !== null) {
    source.cells.forEach((cell, i) => {
      out[columns[i] ?? `column_${i + 1}`] = cell;
    });
  }
  return out;
}

/**
 * Builds the per-row work of a dataset: map columns to fields, validate and normalize with
 * the dataset's zod schema, then hash. `keyHash` is SHA-256 of the canonical JSON of the key
 * fields (all fields when the dataset names no key); `contentHash` of all fields.
 */
export function createRowPreparer(
  spec: Pick<DatasetSpec, 'fields' | 'key'>,
  options: PrepareOptions = {},
): (source: SourceRow, columns: readonly string[] | null) => PreparedRow {
  const mapper = new ColumnMapper(spec.fields);
  const validate = buildRowValidator(spec, { decimal: options.decimal });
  const keep = options.unknownColumns === 'keep';
  const rejectUnknown = options.unknownColumns === 'reject';
  let invalidBytesIn: string | undefined | null = null;
  const key = [...spec.key].sort();
  // A function of the row, not a closure made per row: most rows are valid and need none.
  const rejected = (source: SourceRow, columns: readonly string[] | null, errors: Array<{ field: string | null; message: string }>): PreparedRow => ({
    ok: false,
    value: { row: source.row, line: source.line, lineEnd: source.lineEnd, raw: source.raw, values: originalValues(source, columns), errors },
  });
  return (source, columns) => {
    if (source.problem !== undefined) return rejected(source, columns, [{ field: null, message: `row ${source.problem}` }]);
    if (invalidBytesIn === null) invalidBytesIn = options.invalidBytesIn?.();
    if (invalidBytesIn !== undefined && source.raw.includes('\uFFFD')) {
      return rejected(source, columns, [{ field: null, message: `row has bytes that are not valid ${invalidBytesIn} (shown as \uFFFD)` }]);
    }
    if (rejectUnknown && source.values !== null) {
      const unknown = Object.keys(unknownValues(source, columns, mapper));
      if (unknown.length > 0) return rejected(source, columns, unknown.map((k) => ({ field: k, message: 'is not a field of this dataset (the dataset rejects unknown columns)' })));
    }
    const input = source.cells !== null && columns !== null ? mapper.fromCells(source.cells, columns) : mapper.fromObject(source.values ?? {});
    const result = validate(input);
    if (!result.ok) return rejected(source, columns, result.errors);
    const json = JSON.stringify(keep ? withKept(result.data, unknownValues(source, columns, mapper)) : result.data);
    const contentHash = sha256Hex(json);
    let keyHash = contentHash;
    if (key.length > 0) {
      // The canonical JSON of the key fields, written out: field names are plain identifiers.
      let identity = '{';
      for (let i = 0; i < key.length; i++) {
        const k = key[i]!;
        identity += `${i === 0 ? '' : ','}"${k}":${JSON.stringify(result.data[k])}`;
      }
      keyHash = sha256Hex(`${identity}}`);
    }
    return { ok: true, value: { row: source.row, json, keyHash, contentHash } };
  };
}

/** Step: rows → prepared rows. Rows up to `skipThrough` were committed before and are passed over. */
export async function* prepareRows(
  chunks: AsyncIterable<RowChunk>,
  spec: Pick<DatasetSpec, 'fields' | 'key'>,
  options: PrepareOptions & { skipThrough?: number } = {},
  ctx: StepContext = {},
): AsyncGenerator<PreparedRow[]> {
  const prepare = createRowPreparer(spec, options);
  const skipThrough = options.skipThrough ?? 0;
  for await (const chunk of chunks) {
    ctx.signal?.throwIfAborted();
    const out: PreparedRow[] = [];
    for (const source of chunk.rows) if (source.row > skipThrough) out.push(prepare(source, chunk.columns));
    if (out.length > 0) yield out;
  }
}
