export { datasetSpecSchema, foldColumnName, FIELD_TYPES, type DatasetSpec, type DatasetSpecInput, type FieldSpec, type FieldType } from './dataset-spec.js';
export { decodeText, decodeUtf8, detectEncoding, type DecodeDecision } from './decode.js';
export { CsvScanner, countLineBreaks, type CsvRecord } from './csv-scanner.js';
export { parseCsv } from './parse-csv.js';
export { parseNdjson, type JsonLimits } from './parse-ndjson.js';
export { parseJsonArray } from './parse-json-array.js';
export { parseXlsx } from './parse-xlsx.js';
export { FORMATS, isFormat, isGzipUpload, parseRows, resolveFormat, type Format, type ParseOptions, type TextFormat } from './formats.js';
export { sniffDelimiter } from './sniff-delimiter.js';
export { checkHeader, type ColumnDecision } from './header-check.js';
export {
  datasetOptionsSchema,
  effectiveReadOptions,
  storedReadOptions,
  readOptionsSchema,
  uploadReadFieldsSchema,
  DELIMITERS,
  ENCODINGS,
  UNKNOWN_COLUMNS,
  type Encoding,
  type ReadOptions,
  type UnknownColumns,
} from './read-options.js';
export { enforceErrorBudget, type ErrorBudget } from './error-budget.js';
export { sniffContent, SNIFF_BYTES, type ContentSniff } from './sniff-content.js';
export { ColumnMapper } from './map.js';
export { buildRowValidator, type RowResult, type ValidatorOptions } from './validate.js';
export * from './normalize.js';
export { sha256Hex } from './hash.js';
export { createRowPreparer, prepareRows, type PrepareOptions } from './prepare.js';
export { batchRows, type Batch, type BatchLimits } from './batch.js';
export { prefetch } from './prefetch.js';
export type { FieldError, PreparedRow, RejectedRow, RowChunk, SourceRow, StepContext, ValidRow } from './rows.js';
export { gunzipCapped, peekBytes } from './decompress.js';
