import { AppError } from '@sluice/errors';
import { CsvScanner, type CsvRecord } from './csv-scanner.js';
import type { RowChunk, SourceRow, StepContext } from './rows.js';

export interface CsvParseOptions {
  delimiter?: string;
  maxRecordChars?: number;
}

/**
 * CSV text → rows. The first record is the header; every later record is a row keyed by
 * it. A row with more or fewer cells than the header is passed on with a `problem`, so it
 * is reported rather than guessed at.
 */
export async function* parseCsv(text: AsyncIterable<string>, options: CsvParseOptions = {}, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  const scanner = new CsvScanner(options);
  let columns: string[] | null = null;
  let row = 0;
  let records: CsvRecord[] = [];
  let announced = false;

  const toChunk = (): RowChunk | undefined => {
    let start = 0;
    if (columns === null) {
      const header = records[0];
      if (header === undefined) return undefined;
      columns = header.fields.map((f) => f.trim());
      start = 1;
    }
    const rows: SourceRow[] = new Array<SourceRow>(records.length - start);
    const width = columns.length;
    for (let k = start; k < records.length; k++) {
      const r = records[k]!;
      const source: SourceRow = { row: ++row, line: r.line, lineEnd: r.lineEnd, raw: r.raw, cells: r.fields, values: null };
      if (r.fields.length !== width) source.problem = `has ${r.fields.length} columns, the header has ${width}`;
      rows[k - start] = source;
    }
    records = [];
    return { columns, rows };
  };

  // Records the scanner found before it threw still come out, then the error.
  function* scanned(scan: () => void): Generator<RowChunk> {
    let failure: { error: unknown } | undefined;
    try {
      scan();
    } catch (error) {
      failure = { error };
    }
    const out = toChunk();
    // The first chunk goes out even without rows: it tells the header of a header-only file.
    if (out !== undefined && (out.rows.length > 0 || !announced)) {
      announced = true;
      yield out;
    }
    if (failure !== undefined) throw failure.error;
  }

  for await (const chunk of text) {
    ctx.signal?.throwIfAborted();
    yield* scanned(() => scanner.push(chunk, records));
  }
  yield* scanned(() => scanner.end(records));
  if (columns === null) throw new AppError('parse_error', 'the file has no header row', { details: { line: 1 } });
}
