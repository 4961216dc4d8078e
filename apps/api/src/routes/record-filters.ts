import { AppError } from '@sluice/errors';
import {
  normalizeBoolean,
  normalizeDate,
  normalizeDatetime,
  normalizeEmail,
  normalizeInteger,
  normalizeNumber,
  type FieldSpec,
} from '@sluice/pipeline';

const FILTER_KEY = /^filter\[([^\]]+)\]$/;

/**
 * The `filter[FIELD]=VALUE` parameters of a records query, as the stored (normalized) values
 * they must equal: `filter[amount]=3` matches the number 3, `filter[email]=Ann@X.com` the
 * lowercased address, `filter[country]=de` the enum's own `DE`. A field the dataset does not
 * have, or a value its type cannot take, is a 400 naming it.
 */
export function dataFilters(query: Record<string, unknown>, fields: readonly FieldSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [param, raw] of Object.entries(query)) {
    const m = FILTER_KEY.exec(param);
    if (m === null) continue;
    const name = m[1]!;
    const field = fields.find((f) => f.name === name);
    if (field === undefined)
      throw new AppError('validation_failed', `${param}: the dataset has no field "${name}"`, {
        details: [{ path: param, message: 'unknown field' }],
      });
    if (typeof raw !== 'string')
      throw new AppError('validation_failed', `${param} must be given once`, {
        details: [{ path: param, message: 'given more than once' }],
      });
    const value = normalizeAs(field, raw);
    if (value === undefined) {
      throw new AppError('validation_failed', `${param}: "${raw}" is not a valid ${field.type}`, {
        details: [{ path: param, message: `not a valid ${field.type}` }],
      });
    }
    out[name] = value;
  }
  return out;
}

function normalizeAs(field: FieldSpec, raw: string): unknown {
  switch (field.type) {
    case 'string':
      return raw.trim();
    case 'integer':
      return normalizeInteger(raw.trim());
    case 'number':
      return normalizeNumber(raw.trim());
    case 'boolean':
      return normalizeBoolean(raw.trim());
    case 'date':
      return normalizeDate(raw.trim());
    case 'datetime':
      return normalizeDatetime(raw.trim());
    case 'email':
      return normalizeEmail(raw.trim());
    case 'enum':
      return (field.values ?? []).find((v) => v.toLowerCase() === raw.trim().toLowerCase());
  }
}
