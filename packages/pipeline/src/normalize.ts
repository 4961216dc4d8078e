/**
 * The normal forms Sluice stores. Each function takes a value as it came from a file (text
 * from CSV, or a JSON value) and returns its normal form, or `undefined` when the value is
 * not of that type. They never throw: validation turns `undefined` into a message.
 */

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function normalizeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !NUMBER_TEXT.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const GROUPED_COMMA_DECIMAL = /^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?$/;

/**
 * A number written with a decimal comma (`1.234,56`, `-0,5`) in the form
 * {@link normalizeNumber} reads; points are thousands separators only in groups of three.
 */
export function decimalCommaToPoint(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim();
  if (GROUPED_COMMA_DECIMAL.test(v)) return v.replaceAll('.', '').replace(',', '.');
  return v.includes('.') ? value : v.replace(',', '.');
}

export function normalizeInteger(value: unknown): number | undefined {
  const n = normalizeNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'off']);

export function normalizeBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const v = value.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

// A pragmatic address check (the WHATWG form's): one @, no spaces, a dotted domain.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function normalizeEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.toLowerCase();
  return v.length <= 254 && EMAIL.test(v) ? v : undefined;
}

function isCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= (days[m - 1] ?? 0);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const SLASH_DATE = /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/;
const DOT_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

/** A calendar date as `YYYY-MM-DD`, from `2024-03-07`, `2024/3/7` or `07.03.2024`. */
export function normalizeDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let y: number, m: number, d: number;
  let match = ISO_DATE.exec(value) ?? SLASH_DATE.exec(value);
  if (match) {
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = DOT_DATE.exec(value))) {
    [d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    return undefined;
  }
  return isCalendarDate(y, m, d) ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : undefined;
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An instant as ISO 8601 in UTC (`2024-03-07T09:30:00.000Z`). Accepts `T` or a space between
 * date and time, optional seconds and fraction, and `Z` or an offset; no offset means UTC.
 */
export function normalizeDatetime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = DATETIME.exec(value);
  if (!match) return undefined;
  const [, ys, mos, ds, hs, mis, ss = '0', frac = '0', zone = 'Z'] = match;
  const [y, mo, d, h, mi, s] = [ys, mos, ds, hs, mis, ss].map(Number) as [number, number, number, number, number, number];
  if (!isCalendarDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  const instant = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms) - offsetMinutes * 60_000);
  instant.setUTCFullYear(instant.getUTCFullYear() - 2000 + y); // Date.UTC reads years 0-99 as 1900-1999
  return instant.toISOString();
}
