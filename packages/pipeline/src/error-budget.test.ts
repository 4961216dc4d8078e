import { enforceErrorBudget } from './error-budget.js';
import type { PreparedRow } from './rows.js';
import { collect, from } from './steps.testing.js';

const ok = (row: number): PreparedRow => ({ ok: true, value: { row, json: '{}', keyHash: String(row), contentHash: String(row) } });
const bad = (row: number): PreparedRow => ({
  ok: false,
  value: { row, line: row + 1, lineEnd: row + 1, raw: 'x', values: {}, errors: [] },
});
const rowsOf = (out: PreparedRow[][]) => out.flat().map((r) => r.value.row);

describe('enforceErrorBudget', () => {
  test('no budget: everything passes', async () => {
    const { out, error } = await collect(enforceErrorBudget(from([[ok(1), bad(2)], [bad(3)]]), {}));
    expect({ rows: rowsOf(out), error }).toEqual({ rows: [1, 2, 3], error: undefined });
  });

  test('maxErrors: stops at the rejected row that breaks it; the rows before it go on', async () => {
    const { out, error } = await collect(
      enforceErrorBudget(
        from([
          [ok(1), bad(2)],
          [ok(3), bad(4), ok(5)],
        ]),
        { maxErrors: 1 },
      ),
    );
    expect(rowsOf(out)).toEqual([1, 2, 3]);
    expect(error).toMatchObject({
      code: 'threshold_exceeded',
      message: 'stopped at row 4 (line 5): more than 1 rejected row (maxErrors)',
      details: { row: 4, line: 5, rejected: 2, rows: 4, maxErrors: 1 },
    });
  });

  test('maxErrors: 0 allows none', async () => {
    const { out, error } = await collect(enforceErrorBudget(from([[bad(1)]]), { maxErrors: 0 }));
    expect({ rows: rowsOf(out), code: (error as { code?: string }).code }).toEqual({ rows: [], code: 'threshold_exceeded' });
  });

  test('a resumed job counts the rejected rows committed before', async () => {
    const { error } = await collect(enforceErrorBudget(from([[bad(11)]]), { maxErrors: 2 }, { rows: 10, invalid: 2 }));
    expect(error).toMatchObject({ code: 'threshold_exceeded', details: { rejected: 3, rows: 11 } });
  });

  test('maxErrorRate is judged on the whole file, at its end', async () => {
    const within = await collect(enforceErrorBudget(from([[bad(1), ok(2), ok(3), ok(4)]]), { maxErrorRate: 0.25 }));
    expect(within.error).toBeUndefined();
    const past = await collect(enforceErrorBudget(from([[bad(1), bad(2), ok(3), ok(4)]]), { maxErrorRate: 0.25 }));
    expect(rowsOf(past.out)).toEqual([1, 2, 3, 4]);
    expect(past.error).toMatchObject({
      code: 'threshold_exceeded',
      message: 'stopped at the end of the file: 2 of 4 rows rejected (50%), more than maxErrorRate 0.25',
    });
  });
});
