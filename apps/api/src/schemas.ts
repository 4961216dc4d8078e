import { FIELD_TYPES } from '@sluice/pipeline';
import { z } from 'zod';

// Response schemas: what each route answers, for the OpenAPI document and the serializer.
// They mirror views.ts; a view that drifts from its schema fails its route's tests.

const timestamp = z.string().describe('ISO 8601, UTC');

/** The one error body of every 4xx and 5xx. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('stable, machine-readable: not_found, validation_failed, conflict, …'),
      message: z.string().describe('for a person'),
      details: z.unknown().optional(),
    }),
  })
  .describe('An error');

/** Error answers, by status class, to spread into a route's `response`. */
export const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed', 'cancelled'] as const;

export const jobSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(JOB_STATUSES),
    dataset: z.string(),
    kind: z.enum(['upload', 'push', 'pull']),
    sourceId: z.uuid().nullable().describe('the source a pull run belongs to'),
    file: z.object({
      name: z.string().nullable(),
      format: z.string().describe('csv, json, ndjson or xlsx (ndjson for pushes, json for pulls)'),
      sizeBytes: z.number().int().nullable(),
      sha256: z.string().nullable(),
    }),
    options: z.record(z.string(), z.unknown()).describe('the read options the upload gave (encoding, delimiter, header, decimal, sheet, maxErrors, …)'),
    reading: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('what the worker decided when it opened the file: encoding, delimiter, header, column mapping, compression, sheet'),
    counts: z.object({
      rows: z.number().int(),
      valid: z.number().int(),
      invalid: z.number().int(),
      inserted: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
    }),
    progress: z.number().min(0).max(1).describe('share of the file read and committed'),
    attempts: z.number().int(),
    error: z
      .object({ code: z.string(), message: z.string(), line: z.number().int().nullable().optional(), details: z.unknown().optional() })
      .nullable(),
    correlationId: z.string().nullable().describe('the X-Request-Id of the request that created or last reopened the job'),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .describe('An ingestion job');

export const datasetSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    fields: z.array(
      z.looseObject({
        name: z.string(),
        type: z.enum(FIELD_TYPES),
        required: z.boolean().optional(),
        aliases: z.array(z.string()).optional(),
      }),
    ),
    key: z.array(z.string()),
    options: z.record(z.string(), z.unknown()).describe('default read options for its uploads'),
    createdAt: timestamp,
  })
  .describe('A dataset definition');

export const recordSchema = z
  .object({
    id: z.string(),
    dataset: z.string(),
    data: z.record(z.string(), z.unknown()).describe('the normalized record'),
    jobId: z.uuid().describe('the job that last wrote it'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .describe('A stored record');

export const validationErrorSchema = z
  .object({
    row: z.number().int(),
    line: z.number().int().nullable(),
    lineEnd: z.number().int().nullable(),
    raw: z.string(),
    values: z.record(z.string(), z.unknown()),
    errors: z.array(z.object({ field: z.string().nullable(), message: z.string() })),
  })
  .describe('A rejected row and why');

/** A page of `item`s: pass `nextCursor` as `cursor` for the next; `null` on the last. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
