import { parseCsv, type CsvParseOptions } from './parse-csv.js';
import { parseJsonArray } from './parse-json-array.js';
import { parseNdjson } from './parse-ndjson.js';
import type { RowChunk, StepContext } from './rows.js';

export const FORMATS = ['csv', 'json', 'ndjson'] as const;
export type Format = (typeof FORMATS)[number];

const BY_EXTENSION: Record<string, Format> = { csv: 'csv', tsv: 'csv', txt: 'csv', json: 'json', ndjson: 'ndjson', jsonl: 'ndjson' };
const BY_CONTENT_TYPE: Record<string, Format> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/tab-separated-values': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
};

export function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

/**
 * Which format an upload is in: the one declared, else the file name's extension, else the
 * part's content type. `undefined` when none of them names a format Sluice reads.
 */
export function resolveFormat(input: { declared?: string | undefined; fileName?: string | undefined; contentType?: string | undefined }): Format | undefined {
  if (input.declared !== undefined) return isFormat(input.declared) ? input.declared : undefined;
  const ext = input.fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (ext !== undefined && ext in BY_EXTENSION) return BY_EXTENSION[ext];
  const type = input.contentType?.split(';')[0]?.trim().toLowerCase();
  return type !== undefined ? BY_CONTENT_TYPE[type] : undefined;
}

export interface ParseOptions {
  csv?: CsvParseOptions;
}

/** Step: text → rows, by format. */
export function parseRows(format: Format, text: AsyncIterable<string>, options: ParseOptions = {}, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  switch (format) {
    case 'csv':
      return parseCsv(text, options.csv, ctx);
    case 'json':
      return parseJsonArray(text, ctx);
    case 'ndjson':
      return parseNdjson(text, ctx);
  }
}
