import { AppError } from '@sluice/errors';
import { Readable } from 'node:stream';
import type { RowChunk, SourceRow, StepContext } from './rows.js';

export interface XlsxParseOptions {
  /** The sheet to read by name; the first sheet when absent. */
  sheet?: string | undefined;
  /** A headerless sheet's columns: every row is a data row, its cells in this order. */
  columns?: readonly string[] | undefined;
  maxColumns?: number | undefined;
  maxFieldChars?: number | undefined;
  /** Hears the sheet read before the first row comes out. */
  onSheet?: ((name: string) => void) | undefined;
}

const CHUNK_ROWS = 1_000;
const pad = (n: number) => String(n).padStart(2, '0');

/** A date cell: a calendar date when it has no time of day, else an ISO date-time (Excel's clock read as UTC). */
function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0) {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  }
  return d.toISOString();
}

/** A cell's value as the text a CSV cell would hold: formulas by their result, rich text by its text. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return dateText(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const v = value as { richText?: Array<{ text: string }>; result?: unknown; text?: unknown; error?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return cellText(v.result);
    if (typeof v.text === 'string') return v.text;
    if (typeof v.error === 'string') return v.error;
  }
  return JSON.stringify(value) ?? '';
}

const csvQuote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);

/**
 * Step: the bytes of an .xlsx workbook → rows, read as a stream with exceljs's
 * WorkbookReader: one sheet (the first, or `sheet` by name), its first row the header
 * unless `columns` are given. Cells formatted as dates become ISO dates; a row's `line` is
 * its row number in the sheet and its `raw` the cells as a CSV line. Memory holds the
 * workbook's shared strings and one chunk of rows, not the sheet.
 */
export async function* parseXlsx(
  bytes: AsyncIterable<Uint8Array>,
  options: XlsxParseOptions = {},
  ctx: StepContext = {},
): AsyncGenerator<RowChunk> {
  // Loaded on first use: exceljs is ten megabytes of the worker's heap, and only a workbook needs it.
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(bytes), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  const maxColumns = options.maxColumns ?? Number.MAX_SAFE_INTEGER;
  const maxField = options.maxFieldChars ?? Number.MAX_SAFE_INTEGER;
  let columns: readonly string[] | null = options.columns ?? null;
  let found = false;
  let announced = false;
  const seen: string[] = [];
  let row = 0;
  try {
    for await (const sheet of reader) {
      const name = (sheet as unknown as { name?: string }).name ?? `Sheet${seen.length + 1}`;
      seen.push(name);
      const wanted = !found && (options.sheet === undefined || options.sheet === name);
      if (wanted) {
        found = true;
        options.onSheet?.(name);
      }
      let rows: SourceRow[] = [];
      for await (const r of sheet) {
        if (!wanted) continue;
        ctx.signal?.throwIfAborted();
        const values = (r.values as unknown[]).slice(1);
        const cells = values.map(cellText);
        while (cells.length > 0 && cells.at(-1) === '') cells.pop();
        if (cells.length === 0) continue;
        if (cells.length > maxColumns) {
          throw new AppError(
            'limit_exceeded',
            `row ${r.number} of sheet "${name}" has ${cells.length} columns; at most ${maxColumns} are allowed (MAX_COLUMNS)`,
            {
              details: { line: r.number, columns: cells.length },
            },
          );
        }
        if (columns === null) {
          columns = cells.map((c) => c.trim());
          continue;
        }
        while (cells.length < columns.length) cells.push('');
        const source: SourceRow = {
          row: ++row,
          line: r.number,
          lineEnd: r.number,
          raw: cells.map(csvQuote).join(','),
          cells,
          values: null,
        };
        if (cells.length !== columns.length) source.problem = `has ${cells.length} columns, the header has ${columns.length}`;
        else {
          const long = cells.findIndex((c) => c.length > maxField);
          if (long !== -1) source.problem = `has a value in column "${columns[long]}" longer than ${maxField} characters (MAX_FIELD_CHARS)`;
        }
        rows.push(source);
        if (rows.length >= CHUNK_ROWS) {
          announced = true;
          yield { columns, rows };
          rows = [];
        }
      }
      if (wanted && columns !== null && (rows.length > 0 || !announced)) {
        announced = true;
        yield { columns, rows };
      }
    }
  } catch (error) {
    if (error instanceof AppError || (error as { name?: string }).name === 'AbortError') throw error;
    throw new AppError('parse_error', `the file is not a readable .xlsx workbook: ${(error as Error).message}`, {
      details: { line: null },
      cause: error,
    });
  }
  if (!found) {
    const message =
      options.sheet === undefined
        ? 'the workbook has no sheet'
        : `the workbook has no sheet named "${options.sheet}"; it has ${seen.map((s) => `"${s}"`).join(', ')}`;
    throw new AppError('parse_error', message, { details: { line: null, sheets: seen } });
  }
  if (columns === null) throw new AppError('parse_error', 'the sheet has no header row', { details: { line: 1 } });
}
