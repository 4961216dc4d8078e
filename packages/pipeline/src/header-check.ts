import { AppError } from '@sluice/errors';
import type { FieldSpec } from './dataset-spec.js';
import { ColumnMapper } from './map.js';
import type { UnknownColumns } from './read-options.js';

/** What became of one column of a file. */
export interface ColumnDecision {
  column: string;
  /** The field it feeds, or null. */
  field: string | null;
  action: 'field' | 'kept' | 'ignored';
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a file's header against its dataset before any row is read: a required field no
 * column feeds, two columns feeding one field, and (when the dataset says `reject`) columns
 * that feed none fail the file with `header_mismatch`, every problem listed. Returns what
 * each column does, for the job to show.
 */
export function checkHeader(columns: readonly string[], fields: readonly FieldSpec[], unknownColumns: UnknownColumns): ColumnDecision[] {
  const mapper = new ColumnMapper(fields);
  const fedBy = new Map<string, string[]>();
  const unknown: string[] = [];
  const decisions = columns.map((column): ColumnDecision => {
    const field = mapper.fieldFor(column);
    if (field !== null) {
      fedBy.set(field, [...(fedBy.get(field) ?? []), column]);
      return { column, field, action: 'field' };
    }
    unknown.push(column);
    return { column, field: null, action: unknownColumns === 'keep' && column !== '' ? 'kept' : 'ignored' };
  });
  const missing = fields.filter((f) => f.required && !fedBy.has(f.name)).map((f) => f.name);
  const duplicate = [...fedBy.entries()].filter(([, cols]) => cols.length > 1).map(([field, cols]) => ({ field, columns: cols }));
  const rejected = unknownColumns === 'reject' ? unknown : [];
  const unsafe = unknownColumns === 'keep' ? unknown.filter((c) => RESERVED.has(c)) : [];
  const problems: string[] = [];
  if (missing.length > 0)
    problems.push(`missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`);
  for (const d of duplicate) problems.push(`columns ${d.columns.map((c) => `"${c}"`).join(', ')} all feed field "${d.field}"`);
  if (rejected.length > 0)
    problems.push(
      `unknown column${rejected.length > 1 ? 's' : ''} ${rejected.map((c) => `"${c}"`).join(', ')} (the dataset rejects unknown columns)`,
    );
  if (unsafe.length > 0)
    problems.push(`column name${unsafe.length > 1 ? 's' : ''} ${unsafe.map((c) => `"${c}"`).join(', ')} cannot be kept`);
  if (problems.length > 0) {
    throw new AppError('header_mismatch', `the header does not fit the dataset: ${problems.join('; ')}`, {
      details: { line: 1, missing, duplicate, unknown: rejected, unsafe, columns },
    });
  }
  return decisions;
}
