import { z } from 'zod';

export const ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252', 'iso-8859-1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const DELIMITERS = [',', ';', '\t', '|'] as const;
const DELIMITER_NAMES: Record<string, string> = { comma: ',', semicolon: ';', tab: '\t', '\\t': '\t', pipe: '|' };

export const UNKNOWN_COLUMNS = ['ignore', 'keep', 'reject'] as const;
export type UnknownColumns = (typeof UNKNOWN_COLUMNS)[number];

const ENCODING_ALIASES: Record<string, Encoding> = {
  utf8: 'utf-8',
  'utf-8': 'utf-8',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  cp1252: 'windows-1252',
  'windows-1252': 'windows-1252',
  latin1: 'iso-8859-1',
  'latin-1': 'iso-8859-1',
  'iso-8859-1': 'iso-8859-1',
};

const encoding = z.string().transform((v, ctx) => {
  const e = ENCODING_ALIASES[v.trim().toLowerCase()];
  if (e === undefined) ctx.addIssue({ code: 'custom', message: `must be one of ${ENCODINGS.join(', ')}` });
  return e ?? z.NEVER;
});

const delimiter = z.string().transform((v, ctx) => {
  const d = DELIMITER_NAMES[v.toLowerCase()] ?? v;
  if (!(DELIMITERS as readonly string[]).includes(d))
    ctx.addIssue({ code: 'custom', message: 'must be one of , ; | or a tab (also "comma", "semicolon", "tab", "pipe")' });
  return d;
});

/**
 * How a file is read. A dataset holds defaults; an upload's fields override them. Every
 * key is optional: what is not said is detected (encoding, delimiter) or defaulted.
 */
export const readOptionsSchema = z
  .object({
    encoding: encoding.optional(),
    delimiter: delimiter.optional(),
    decimal: z.enum(['.', ',']).optional(),
    header: z.boolean().optional(),
    sheet: z.string().min(1).max(31).optional(),
    unknownColumns: z.enum(UNKNOWN_COLUMNS).optional(),
    maxErrors: z.number().int().min(0).optional(),
    maxErrorRate: z.number().min(0).max(1).optional(),
    atomic: z.boolean().optional(),
  })
  .strict();

export type ReadOptions = z.output<typeof readOptionsSchema>;

/** The options a dataset may hold as defaults: everything but the per-file `encoding` and `sheet`. */
export const datasetOptionsSchema = readOptionsSchema.omit({ encoding: true, sheet: true }).strict();

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const count = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a whole number')
  .transform(Number);
const rate = z
  .string()
  .regex(/^(?:0|1|0?\.\d+|1\.0*)$/, 'must be a number from 0 to 1')
  .transform(Number);

/** The read options as multipart text fields (`header=false`, `maxErrors=10`, …). */
export const uploadReadFieldsSchema = z
  .object({
    encoding: z.string().optional(),
    delimiter: z.string().optional(),
    decimal: z.string().optional(),
    header: flag.optional(),
    sheet: z.string().optional(),
    unknownColumns: z.string().optional(),
    maxErrors: count.optional(),
    maxErrorRate: rate.optional(),
    atomic: flag.optional(),
  })
  .strict()
  .pipe(readOptionsSchema);

/** The upload's options over the dataset's. */
export function effectiveReadOptions(dataset: ReadOptions, upload: ReadOptions): ReadOptions {
  return { ...dataset, ...upload };
}

/** The read options stored with a dataset or a job; keys it does not know are passed over. */
export function storedReadOptions(value: unknown): ReadOptions {
  if (typeof value !== 'object' || value === null) return {};
  const known = Object.keys(readOptionsSchema.shape);
  const picked = Object.fromEntries(Object.entries(value).filter(([k]) => known.includes(k)));
  const parsed = readOptionsSchema.safeParse(picked);
  return parsed.success ? parsed.data : {};
}
