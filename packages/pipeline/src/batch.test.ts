import { AppError } from '@sluice/errors';
import { batchRows, type Batch } from './batch.js';
import type { PreparedRow, RejectedRow, ValidRow } from './rows.js';
import { collect, from } from './steps.testing.js';

async function* thenThrow<T>(items: readonly T[], error: unknown): AsyncGenerator<T> {
  for (const item of items) yield item;
  throw error;
}

async function drain(source: AsyncIterable<PreparedRow[]>, limits: { rows: number; bytes: number }): Promise<{ batches: Batch[]; error: unknown }> {
  const { out, error } = await collect(batchRows(source, limits));
  return { batches: out, error };
}

const validValue = (row: number, json = '{"a":1}'): ValidRow => ({ row, json, keyHash: `k${row}`, contentHash: `c${row}` });
const rejectedValue = (row: number, raw = 'bad'): RejectedRow => ({
  row,
  line: row + 1,
  lineEnd: row + 1,
  raw,
  values: {},
  errors: [{ field: null, message: 'row is bad' }],
});
const ok = (row: number, json?: string): PreparedRow => ({ ok: true, value: validValue(row, json) });
const no = (row: number, raw?: string): PreparedRow => ({ ok: false, value: rejectedValue(row, raw) });

const LOTS = { rows: 1_000, bytes: 1_000_000 };

describe('batchRows', () => {
  test('everything in one batch when under both limits, valid and rejected apart', async () => {
    const { batches, error } = await drain(from([[ok(1), no(2)], [ok(3)]]), LOTS);
    expect(error).toBeUndefined();
    expect(batches).toStrictEqual([{ lastRow: 3, rows: 3, valid: [validValue(1), validValue(3)], rejected: [rejectedValue(2)] }]);
  });

  test('splits by row count; lastRow and rows describe each batch', async () => {
    const { batches } = await drain(
      from([
        [ok(1), ok(2), no(3)],
        [ok(4), ok(5)],
      ]),
      { rows: 2, bytes: 1_000_000 },
    );
    expect(batches).toStrictEqual([
      { lastRow: 2, rows: 2, valid: [validValue(1), validValue(2)], rejected: [] },
      { lastRow: 4, rows: 2, valid: [validValue(4)], rejected: [rejectedValue(3)] },
      { lastRow: 5, rows: 1, valid: [validValue(5)], rejected: [] },
    ]);
  });

  test('an exact multiple of the row limit leaves no empty last batch', async () => {
    const { batches } = await drain(
      from([
        [ok(1), ok(2)],
        [ok(3), ok(4)],
      ]),
      { rows: 2, bytes: 1_000_000 },
    );
    expect(batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([
      [2, 2],
      [4, 2],
    ]);
  });

  test('splits by bytes: a valid row counts its json length plus 160', async () => {
    const json = 'x'.repeat(40); // 200 bytes a row
    const rows = [1, 2, 3, 4, 5].map((n) => ok(n, json));
    expect((await drain(from([rows]), { rows: 1_000, bytes: 400 })).batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([
      [2, 2],
      [4, 2],
      [5, 1],
    ]);
    // One byte more and a batch needs a third row to reach the limit.
    expect((await drain(from([rows]), { rows: 1_000, bytes: 401 })).batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([
      [3, 3],
      [5, 2],
    ]);
  });

  test('splits by bytes: a rejected row counts its raw length plus 200', async () => {
    const rows = [no(1, 'r'.repeat(50)), no(2, 'r'.repeat(50)), no(3, 'r'.repeat(50))]; // 250 bytes a row
    expect((await drain(from([rows]), { rows: 1_000, bytes: 500 })).batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([
      [2, 2],
      [3, 1],
    ]);
    expect((await drain(from([rows]), { rows: 1_000, bytes: 501 })).batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([[3, 3]]);
  });

  test('a row bigger than the byte limit is a batch on its own', async () => {
    const { batches } = await drain(from([[ok(1, 'x'.repeat(5_000)), ok(2)]]), { rows: 1_000, bytes: 1_000 });
    expect(batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  test('the byte count starts again in each batch', async () => {
    const json = 'x'.repeat(40); // 200 bytes a row
    const { batches } = await drain(from([[1, 2, 3, 4, 5, 6].map((n) => ok(n, json))]), { rows: 1_000, bytes: 600 });
    expect(batches.map((b) => b.rows)).toStrictEqual([3, 3]);
  });

  test('lastRow is the last source row, even when row numbers skip (rows resumed or skipped)', async () => {
    const { batches } = await drain(from([[ok(7), no(9)], [ok(12)]]), { rows: 2, bytes: 1_000_000 });
    expect(batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([
      [9, 2],
      [12, 1],
    ]);
  });

  test('empty input, or only empty arrays, yields no batch', async () => {
    expect(await drain(from([]), LOTS)).toStrictEqual({ batches: [], error: undefined });
    expect(await drain(from([[], []]), LOTS)).toStrictEqual({ batches: [], error: undefined });
  });

  test('a parse_error upstream: the pending rows come as a last batch, then the same error', async () => {
    const failure = new AppError('parse_error', 'unclosed quoted field starting at line 9', { details: { line: 9 } });
    const { batches, error } = await drain(thenThrow([[ok(1), ok(2), no(3)]], failure), { rows: 2, bytes: 1_000_000 });
    expect(batches).toStrictEqual([
      { lastRow: 2, rows: 2, valid: [validValue(1), validValue(2)], rejected: [] },
      { lastRow: 3, rows: 1, valid: [], rejected: [rejectedValue(3)] },
    ]);
    expect(error).toBe(failure);
  });

  test('a parse_error with nothing pending yields no empty batch', async () => {
    const failure = new AppError('parse_error', 'cut off', { details: { line: 1 } });
    const { batches, error } = await drain(thenThrow([[ok(1), ok(2)]], failure), { rows: 2, bytes: 1_000_000 });
    expect(batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([[2, 2]]);
    expect(error).toBe(failure);
  });

  test('a parse_error from another copy of AppError is matched by its code', async () => {
    const failure = Object.assign(new Error('cut off'), { code: 'parse_error', status: 422 });
    const { batches, error } = await drain(thenThrow([[ok(1)]], failure), LOTS);
    expect(batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([[1, 1]]);
    expect(error).toBe(failure);
  });

  test.each([
    ['a plain Error', new Error('disk gone')],
    ['an AppError with another code', new AppError('internal', 'oops')],
    ['an abort', new DOMException('aborted', 'AbortError')],
  ])('%s upstream: no flush, the error is rethrown', async (_name, failure) => {
    const { batches, error } = await drain(thenThrow([[ok(1), ok(2), ok(3)]], failure), { rows: 2, bytes: 1_000_000 });
    expect(batches.map((b) => [b.lastRow, b.rows])).toStrictEqual([[2, 2]]);
    expect(error).toBe(failure);
  });
});
