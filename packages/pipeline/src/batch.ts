import { isAppError } from '@sluice/errors';
import type { PreparedRow, RejectedRow, ValidRow } from './rows.js';

/** Rows committed together: the source rows after the previous batch up to `lastRow`. */
export interface Batch {
  lastRow: number;
  rows: number;
  valid: ValidRow[];
  rejected: RejectedRow[];
}

/** Errors that stop a file at a row: the rows before it still land. */
const STOPS_AT_ROW = new Set(['parse_error', 'threshold_exceeded', 'limit_exceeded', 'source_failed']);

export interface BatchLimits {
  rows: number;
  bytes: number;
}

/**
 * Step: prepared rows → batches of at most `rows` rows or about `bytes` of data. When the
 * input breaks (a file cut off, an unclosed quote, a source's page that never came), the
 * rows read before the break are still yielded as a last batch, then the error is
 * rethrown: what was good lands.
 */
export async function* batchRows(prepared: AsyncIterable<PreparedRow[]>, limits: BatchLimits): AsyncGenerator<Batch> {
  let batch: Batch = { lastRow: 0, rows: 0, valid: [], rejected: [] };
  let bytes = 0;
  const take = (): Batch => {
    const full = batch;
    batch = { lastRow: full.lastRow, rows: 0, valid: [], rejected: [] };
    bytes = 0;
    return full;
  };
  try {
    for await (const rows of prepared) {
      for (const r of rows) {
        if (r.ok) {
          batch.valid.push(r.value);
          bytes += r.value.json.length + 160;
        } else {
          batch.rejected.push(r.value);
          bytes += r.value.raw.length + 200;
        }
        batch.rows++;
        batch.lastRow = r.value.row;
        if (batch.rows >= limits.rows || bytes >= limits.bytes) yield take();
      }
    }
  } catch (error) {
    if (batch.rows > 0 && isAppError(error) && STOPS_AT_ROW.has(error.code)) yield take();
    throw error;
  }
  if (batch.rows > 0) yield take();
}
