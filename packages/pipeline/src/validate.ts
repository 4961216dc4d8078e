import { z } from 'zod';
import type { DatasetSpec, FieldSpec } from './dataset-spec.js';
import {
  normalizeBoolean,
  normalizeDate,
  normalizeDatetime,
  normalizeEmail,
  normalizeInteger,
  normalizeNumber,
  decimalCommaToPoint,
} from './normalize.js';
import type { FieldError } from './rows.js';

type Scalar = string | number | boolean;

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** The parse of one type: its normal form, or undefined, and what to say when it fails. */
const TYPES: Record<FieldSpec['type'], { parse: (v: unknown, f: FieldSpec) => Scalar | undefined; expected: (f: FieldSpec) => string }> = {
  string: { parse: (v) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined), expected: () => 'text' },
  integer: { parse: normalizeInteger, expected: () => 'a whole number' },
  number: { parse: normalizeNumber, expected: () => 'a number' },
  boolean: { parse: normalizeBoolean, expected: () => 'true or false (also yes/no, 1/0)' },
  date: { parse: normalizeDate, expected: () => 'a date like 2024-03-31' },
  datetime: { parse: normalizeDatetime, expected: () => 'a date and time like 2024-03-31T14:30:00Z' },
  email: { parse: normalizeEmail, expected: () => 'an email address' },
  enum: {
    parse: (v, f) => {
      if (typeof v !== 'string') return undefined;
      const values = f.values ?? [];
      return values.includes(v) ? v : values.find((allowed) => allowed.toLowerCase() === v.toLowerCase());
    },
    expected: (f) => `one of ${(f.values ?? []).join(', ')}`,
  },
};

/** The constraints beyond the type; each returns a message when the value breaks it. */
function constraints(f: FieldSpec): Array<(v: Scalar) => string | undefined> {
  const checks: Array<(v: Scalar) => string | undefined> = [];
  const { min, max, minLength, maxLength, pattern } = f;
  if (min !== undefined) checks.push((v) => ((v as number) < min ? `must be at least ${min}, got ${v}` : undefined));
  if (max !== undefined) checks.push((v) => ((v as number) > max ? `must be at most ${max}, got ${v}` : undefined));
  if (minLength !== undefined) {
    checks.push((v) => ((v as string).length < minLength ? `must be at least ${minLength} characters, got ${(v as string).length}` : undefined));
  }
  if (maxLength !== undefined) {
    checks.push((v) => ((v as string).length > maxLength ? `must be at most ${maxLength} characters, got ${(v as string).length}` : undefined));
  }
  if (pattern !== undefined) {
    const re = new RegExp(pattern, 'u');
    checks.push((v) => (re.test(v as string) ? undefined : `must match the pattern ${pattern}, got ${show(v)}`));
  }
  return checks;
}

/**
 * The zod schema of one field: takes the value as a file had it (text from CSV, or a JSON
 * value), trims text, treats an empty value as absent, and returns the normal form.
 */
function fieldSchema(f: FieldSpec, options: ValidatorOptions) {
  const type = TYPES[f.type];
  const numeric = f.type === 'number' || f.type === 'integer';
  const prepare = options.decimal === ',' && numeric ? decimalCommaToPoint : (v: unknown) => v;
  const checks = constraints(f);
  return z.unknown().transform((input, ctx): Scalar | undefined => {
    const value = typeof input === 'string' ? input.trim() : input;
    if (value === undefined || value === null || value === '') {
      if (f.required) ctx.addIssue({ code: 'custom', message: 'is required' });
      return undefined;
    }
    const parsed = type.parse(prepare(value), f);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be ${type.expected(f)}, got ${show(value)}` });
      return z.NEVER;
    }
    for (const check of checks) {
      const message = check(parsed);
      if (message !== undefined) ctx.addIssue({ code: 'custom', message });
    }
    return parsed;
  });
}

/** How text numbers are written: `decimal: ","` reads `1.234,56` as 1234.56. */
export interface ValidatorOptions {
  decimal?: '.' | ',' | undefined;
}

export type RowResult = { ok: true; data: Record<string, Scalar> } | { ok: false; errors: FieldError[] };

/**
 * Builds the validator of a dataset: a zod object schema of its fields, run on a mapped row.
 * On success, `data` holds the normalized values with keys in sorted order and absent
 * values left out, which makes `JSON.stringify(data)` the row's canonical JSON.
 */
export function buildRowValidator(spec: Pick<DatasetSpec, 'fields'>, options: ValidatorOptions = {}): (input: Record<string, unknown>) => RowResult {
  // Issues come in the dataset's field order; data keys go in sorted order.
  const schema = z.object(Object.fromEntries(spec.fields.map((f) => [f.name, fieldSchema(f, options)])));
  const names = spec.fields.map((f) => f.name).sort();
  const fieldNames = spec.fields.map((f) => f.name);
  return (input) => {
    // zod 4 rejects an absent key before a field's own schema runs; give every field its key
    // so that "absent" is decided here: required → "is required", optional → left out.
    let full = input;
    for (const name of fieldNames) {
      if (!Object.hasOwn(input, name)) {
        full = Object.fromEntries(fieldNames.map((n) => [n, Object.hasOwn(input, n) ? input[n] : undefined]));
        break;
      }
    }
    const result = schema.safeParse(full);
    if (!result.success) {
      return { ok: false, errors: result.error.issues.map((i) => ({ field: String(i.path[0] ?? '') || null, message: i.message })) };
    }
    const out = result.data as Record<string, Scalar | undefined>;
    const data: Record<string, Scalar> = {};
    for (const name of names) {
      const v = out[name];
      if (v !== undefined) data[name] = v;
    }
    return { ok: true, data };
  };
}
