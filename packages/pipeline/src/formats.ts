import { parseCsv, type CsvParseOptions } from './parse-csv.js';
import { parseJsonArray } from './parse-json-array.js';
import { parseNdjson, type JsonLimits } from './parse-ndjson.js';
import type { RowChunk, StepContext } from './rows.js';

export const FORMATS = ['csv', 'json', 'ndjson', 'xlsx'] as const;
export type Format = (typeof FORMATS)[number];
/** The formats that are text, read through a decoder. */
export type TextFormat = Exclude<Format, 'xlsx'>;

const BY_EXTENSION: Record<string, Format> = { csv: 'csv', tsv: 'csv', txt: 'csv', json: 'json', ndjson: 'ndjson', jsonl: 'ndjson', xlsx: 'xlsx' };
const BY_CONTENT_TYPE: Record<string, Format> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/tab-separated-values': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};
const GZIP_TYPES = new Set(['application/gzip', 'application/x-gzip']);

export function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

const typeOf = (contentType: string | undefined) => contentType?.split(';')[0]?.trim().toLowerCase();

/** Whether an upload says it is gzip-compressed: a `.gz` name or a gzip content type. */
export function isGzipUpload(input: { fileName?: string | undefined; contentType?: string | undefined }): boolean {
  const type = typeOf(input.contentType);
  return /\.gz$/i.test(input.fileName ?? '') || (type !== undefined && GZIP_TYPES.has(type));
}

/**
 * Which format an upload is in: the one declared, else the file name's extension (under a
 * `.gz`), else the part's content type. `undefined` when none of them names a format Sluice reads.
 */
export function resolveFormat(input: { declared?: string | undefined; fileName?: string | undefined; contentType?: string | undefined }): Format | undefined {
  if (input.declared !== undefined) return isFormat(input.declared) ? input.declared : undefined;
  const name = input.fileName?.toLowerCase().replace(/\.gz$/, '');
  const ext = name?.match(/\.([a-z0-9]+)$/)?.[1];
  if (ext !== undefined && ext in BY_EXTENSION) return BY_EXTENSION[ext];
  const type = typeOf(input.contentType);
  return type !== undefined ? BY_CONTENT_TYPE[type] : undefined;
}

export interface ParseOptions {
  csv?: CsvParseOptions;
  json?: JsonLimits;
}

/** Step: text → rows, by format. */
export function parseRows(format: TextFormat, text: AsyncIterable<string>, options: ParseOptions = {}, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  switch (format) {
    case 'csv':
      return parseCsv(text, options.csv, ctx);
    case 'json':
      return parseJsonArray(text, options.json, ctx);
    case 'ndjson':
      return parseNdjson(text, options.json, ctx);
  }
}
