import type { DatasetSpec } from './dataset-spec.js';
import { sha256Hex } from './hash.js';
import { ColumnMapper } from './map.js';
import type { PreparedRow, RowChunk, SourceRow, StepContext } from './rows.js';
import { buildRowValidator } from './validate.js';

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
export function createRowPreparer(spec: Pick<DatasetSpec, 'fields' | 'key'>): (source: SourceRow, columns: readonly string[] | null) => PreparedRow {
  const mapper = new ColumnMapper(spec.fields);
  const validate = buildRowValidator(spec);
  const key = [...spec.key].sort();
  return (source, columns) => {
    const reject = (errors: Array<{ field: string | null; message: string }>): PreparedRow => ({
      ok: false,
      value: { row: source.row, line: source.line, lineEnd: source.lineEnd, raw: source.raw, values: originalValues(source, columns), errors },
    });
    if (source.problem !== undefined) return reject([{ field: null, message: `row ${source.problem}` }]);
    const input = source.cells !== null && columns !== null ? mapper.fromCells(source.cells, columns) : mapper.fromObject(source.values ?? {});
    const result = validate(input);
    if (!result.ok) return reject(result.errors);
    const json = JSON.stringify(result.data);
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
  options: { skipThrough?: number } = {},
  ctx: StepContext = {},
): AsyncGenerator<PreparedRow[]> {
  const prepare = createRowPreparer(spec);
  const skipThrough = options.skipThrough ?? 0;
  for await (const chunk of chunks) {
    ctx.signal?.throwIfAborted();
    const out: PreparedRow[] = [];
    for (const source of chunk.rows) if (source.row > skipThrough) out.push(prepare(source, chunk.columns));
    if (out.length > 0) yield out;
  }
}
