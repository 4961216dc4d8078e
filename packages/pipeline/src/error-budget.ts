import { AppError } from '@sluice/errors';
import type { PreparedRow, StepContext } from './rows.js';

/** How many rejected rows a file may have before it fails: a count, a share of its rows, or both. */
export interface ErrorBudget {
  maxErrors?: number | undefined;
  maxErrorRate?: number | undefined;
}

/**
 * Step: passes prepared rows on until the budget is spent. Past `maxErrors`, it stops at the
 * rejected row that broke it: the rows before it go on, and `threshold_exceeded` names the
 * row and line. `maxErrorRate` is a share of the whole file, so it is judged at the end.
 * `before` carries the counts of a resumed job's committed rows.
 */
export async function* enforceErrorBudget(
  prepared: AsyncIterable<PreparedRow[]>,
  budget: ErrorBudget,
  before: { rows: number; invalid: number } = { rows: 0, invalid: 0 },
  ctx: StepContext = {},
): AsyncGenerator<PreparedRow[]> {
  let rows = before.rows;
  let invalid = before.invalid;
  const max = budget.maxErrors;
  for await (const chunk of prepared) {
    ctx.signal?.throwIfAborted();
    if (max === undefined) {
      rows += chunk.length;
      for (const r of chunk) if (!r.ok) invalid++;
      yield chunk;
      continue;
    }
    for (let i = 0; i < chunk.length; i++) {
      const r = chunk[i]!;
      if (r.ok) continue;
      if (invalid + 1 > max) {
        if (i > 0) yield chunk.slice(0, i);
        const where = r.value.line === null ? `row ${r.value.row}` : `row ${r.value.row} (line ${r.value.line})`;
        throw new AppError('threshold_exceeded', `stopped at ${where}: more than ${max} rejected row${max === 1 ? '' : 's'} (maxErrors)`, {
          details: { line: r.value.line, row: r.value.row, rejected: invalid + 1, rows: rows + i + 1, maxErrors: max },
        });
      }
      invalid++;
    }
    rows += chunk.length;
    yield chunk;
  }
  const rate = budget.maxErrorRate;
  if (rate !== undefined && rows > 0 && invalid / rows > rate) {
    const share = Math.round((invalid / rows) * 10_000) / 100;
    throw new AppError(
      'threshold_exceeded',
      `stopped at the end of the file: ${invalid} of ${rows} rows rejected (${share}%), more than maxErrorRate ${rate}`,
      {
        details: { line: null, row: rows, rejected: invalid, rows, maxErrorRate: rate },
      },
    );
  }
}
