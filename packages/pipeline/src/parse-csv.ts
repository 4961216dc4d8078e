import { AppError } from '@sluice/errors';
import { CsvScanner, type CsvRecord } from './csv-scanner.js';
import type { RowChunk, SourceRow, StepContext } from './rows.js';
import { sniffDelimiter } from './sniff-delimiter.js';

export interface CsvParseOptions {
  /** One character; when absent it is sniffed from the first 64 KB of text. */
  delimiter?: string | undefined;
  /** A headerless file's columns: every record is a row, its cells in this order. */
  columns?: readonly string[] | undefined;
  /** Hears the delimiter used before the first row comes out. */
  onDelimiter?: ((delimiter: string, by: 'declared' | 'detected') => void) | undefined;
  maxRecordChars?: number | undefined;
  /** A cell longer than this fails its row. */
  maxFieldChars?: number | undefined;
  /** A header (or headerless first row) with more columns than this fails the file. */
  maxColumns?: number | undefined;
}

const SNIFF_CHARS = 64 * 1024;

/**
 * CSV text → rows. The first record is the header (unless `columns` are given); every later
 * record is a row keyed by it. A row with more or fewer cells than the header, or with a
 * cell over `maxFieldChars`, is passed on with a `problem`, so it is reported rather than
 * guessed at.
 */
export async function* parseCsv(text: AsyncIterable<string>, options: CsvParseOptions = {}, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  let scanner: CsvScanner | undefined;
  let columns: readonly string[] | null = options.columns ?? null;
  const maxField = options.maxFieldChars ?? Number.MAX_SAFE_INTEGER;
  const maxColumns = options.maxColumns ?? Number.MAX_SAFE_INTEGER;
  let row = 0;
  let records: CsvRecord[] = [];
  let announced = false;

  const tooWide = (width: number, line: number) =>
    new AppError('limit_exceeded', `the file has ${width} columns; at most ${maxColumns} are allowed (MAX_COLUMNS)`, { details: { line, columns: width } });

  const toChunk = (): RowChunk | undefined => {
    let start = 0;
    if (columns === null) {
      const header = records[0];
      if (header === undefined) return undefined;
      if (header.fields.length > maxColumns) throw tooWide(header.fields.length, header.line);
      columns = header.fields.map((f) => f.trim());
      start = 1;
    } else if (!announced && records[0] !== undefined && records[0].fields.length > maxColumns) {
      throw tooWide(records[0].fields.length, records[0].line);
    }
    const rows: SourceRow[] = new Array<SourceRow>(records.length - start);
    const width = columns.length;
    for (let k = start; k < records.length; k++) {
      const r = records[k]!;
      const source: SourceRow = { row: ++row, line: r.line, lineEnd: r.lineEnd, raw: r.raw, cells: r.fields, values: null };
      if (r.fields.length !== width) source.problem = `has ${r.fields.length} columns, the header has ${width}`;
      else if (r.raw.length > maxField) {
        const long = r.fields.findIndex((f) => f.length > maxField);
        if (long !== -1) source.problem = `has a value in column "${columns[long] ?? long + 1}" longer than ${maxField} characters (MAX_FIELD_CHARS)`;
      }
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

  const open = (sample: string, complete: boolean): CsvScanner => {
    const declared = options.delimiter !== undefined;
    const delimiter = options.delimiter ?? sniffDelimiter(sample, complete);
    options.onDelimiter?.(delimiter, declared ? 'declared' : 'detected');
    return new CsvScanner({ delimiter, ...(options.maxRecordChars === undefined ? {} : { maxRecordChars: options.maxRecordChars }) });
  };

  let sample = '';
  for await (const chunk of text) {
    ctx.signal?.throwIfAborted();
    if (scanner === undefined) {
      sample += chunk;
      if (sample.length < SNIFF_CHARS && options.delimiter === undefined) continue;
      const s = open(sample, false);
      scanner = s;
      yield* scanned(() => s.push(sample, records));
      sample = '';
      continue;
    }
    const s = scanner;
    yield* scanned(() => s.push(chunk, records));
  }
  if (scanner === undefined) {
    const s = open(sample, true);
    scanner = s;
    yield* scanned(() => s.push(sample, records));
  }
  const s = scanner;
  yield* scanned(() => s.end(records));
  if (columns === null) throw new AppError('parse_error', 'the file has no header row', { details: { line: 1 } });
}
