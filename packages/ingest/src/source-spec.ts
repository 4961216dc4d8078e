import { z } from 'zod';

const param = z.string().min(1).max(100);
/** A dot path into a JSON response: `data.items`, `meta.next_cursor`. */
export const jsonPathSchema = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a dot path like "data.items"')
  .max(200);

/** How a source's pages follow one another. */
export const paginationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('page'),
      /** The query parameter of the page number. */
      param: param.default('page'),
      /** The first page's number. */
      start: z.number().int().min(0).default(1),
      /** Optional page-size parameter and value; a page shorter than `size` is the last. */
      sizeParam: param.optional(),
      size: z.number().int().min(1).max(100_000).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('offset'),
      param: param.default('offset'),
      limitParam: param.default('limit'),
      limit: z.number().int().min(1).max(100_000).default(100),
    })
    .strict(),
  z
    .object({
      type: z.literal('cursor'),
      /** The query parameter the cursor is sent in. */
      param: param.default('cursor'),
      /** Where the next cursor is in each response; absent, null or "" ends the run. */
      cursorPath: jsonPathSchema,
    })
    .strict(),
  z.object({ type: z.literal('linkHeader') }).strict(),
  z
    .object({
      type: z.literal('nextUrl'),
      /** Where the next page's URL (absolute or relative) is in each response. */
      path: jsonPathSchema,
    })
    .strict(),
]);

export type Pagination = z.infer<typeof paginationSchema>;

/** Incremental pulls: the highest `field` seen is sent back as the query parameter `param`. */
export const incrementalSchema = z.object({ field: jsonPathSchema, param }).strict();

export type Incremental = z.infer<typeof incrementalSchema>;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a duration like `30s`, `5m`, `1h`, `1d`. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (m === null) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `{"every": "5m"}` (at least 10 s) or `{"cron": "0 * * * *"}` (UTC). */
export const scheduleSchema = z.union([
  z
    .object({
      every: z
        .string()
        .regex(DURATION, 'must be a duration like "30s", "5m", "1h" or "1d"')
        .refine((v) => !DURATION.test(v) || durationMs(v) >= 10_000, 'must be at least 10s'),
    })
    .strict(),
  z.object({ cron: z.string().min(9).max(200) }).strict(),
]);

export type Schedule = z.infer<typeof scheduleSchema>;

/** Reads a dot path out of a parsed JSON value. */
export function atPath(value: unknown, path: string): unknown {
  let here = value;
  for (const part of path.split('.')) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = (here as Record<string, unknown>)[part];
  }
  return here;
}
