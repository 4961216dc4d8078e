/** A row as a parser read it, before mapping and validation. */
export interface SourceRow {
  /** 1-based position among the data rows of the input (a header is not a row). */
  row: number;
  /** Physical lines of the input the row spans, 1-based; null where the format has none. */
  line: number | null;
  lineEnd: number | null;
  /** The row's text as it was in the input. */
  raw: string;
  /** CSV: the cells, in the order of the chunk's `columns`. */
  cells: string[] | null;
  /** JSON and NDJSON: the object as it was. */
  values: Record<string, unknown> | null;
  /** Set when the parser could read the row but not make sense of it (wrong column count, bad JSON). */
  problem?: string;
}

export interface FieldError {
  field: string | null;
  message: string;
}

/** Rows as they leave a parser; `columns` is the header for CSV, null for JSON. */
export interface RowChunk {
  columns: readonly string[] | null;
  rows: SourceRow[];
}

/** A row that passed validation: its normalized data and its hashes. */
export interface ValidRow {
  row: number;
  /** Canonical JSON of the normalized data. */
  json: string;
  keyHash: string;
  contentHash: string;
}

/** A row that did not pass, with every reason. */
export interface RejectedRow {
  row: number;
  line: number | null;
  lineEnd: number | null;
  raw: string;
  values: Record<string, unknown>;
  errors: FieldError[];
}

export type PreparedRow = { ok: true; value: ValidRow } | { ok: false; value: RejectedRow };

/** What every step receives besides its rows: a way to stop, and limits. */
export interface StepContext {
  signal?: AbortSignal;
}
