import type { ValidationErrorRow } from '@sluice/db';

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection).
// A plain number such as -4 cannot be a formula and is left as it is, so the file re-uploads.
const FORMULA = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** One CSV cell: formula triggers neutralized with a leading quote, then RFC 4180 quoting. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function describe(errors: ValidationErrorRow['errors']): string {
  return errors.map((e) => (e.field === null ? e.message : `${e.field} ${e.message}`)).join('; ');
}

/**
 * A job's rejected rows as CSV, in the file's own columns plus `error`, ready to fix and
 * upload again. Pages through the rows so memory stays flat however many there are.
 */
export async function* errorsCsv(
  columns: readonly string[],
  fetchPage: (after: number | undefined) => Promise<ValidationErrorRow[]>,
): AsyncGenerator<string> {
  yield [...columns, 'error'].map(csvCell).join(',') + '\r\n';
  let after: number | undefined;
  for (;;) {
    const rows = await fetchPage(after);
    if (rows.length === 0) return;
    yield rows.map((r) => [...columns.map((c) => csvCell(r.values[c])), csvCell(describe(r.errors))].join(',') + '\r\n').join('');
    after = rows.at(-1)!.row_number;
  }
}
