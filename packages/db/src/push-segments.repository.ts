import { sql, type Kysely } from 'kysely';
import type { DB, Job } from './schema.js';

/** One stored NDJSON blob of a push job: its storage key, size and record count. */
export interface PushSegment {
  key: string;
  bytes: number;
  rows: number;
}

interface PushOptions {
  segments: PushSegment[];
  rows: number;
}

/** The `options` of a push job made of its first segment. */
export function firstPushSegment(segment: PushSegment): PushOptions {
  return { segments: [segment], rows: segment.rows };
}

/** The storage keys of a job's input in order: a push job's segments, else its one file. */
export function inputKeys(job: Pick<Job, 'options' | 'storage_key'>): string[] {
  const segments = (job.options as Partial<PushOptions>).segments;
  if (Array.isArray(segments)) return segments.map((s) => s.key);
  return job.storage_key === null ? [] : [job.storage_key];
}

/** How many records a push job holds so far. */
export function pushRows(job: Pick<Job, 'options'>): number {
  return Number((job.options as Partial<PushOptions>).rows ?? 0);
}

/** Segments a push job takes at most; later batches start a new job (each append rewrites the list). */
export const MAX_PUSH_SEGMENTS = 1_000;

/**
 * Adds a segment to a push job that is queued and was never started (`attempts = 0`), and
 * returns the job as it now is; undefined when a worker has claimed it (its input is fixed
 * from then on), when it is full (`MAX_PUSH_SEGMENTS`) or gone. While another transaction
 * holds the row (another flush of the same dataset, a worker claiming it), this waits for
 * it and then looks again. The row's lock, held to the end of the caller's transaction,
 * keeps a worker from claiming the job until the segment is committed.
 */
export async function appendPushSegment(db: Kysely<DB>, tenantId: string, jobId: string, segment: PushSegment): Promise<Job | undefined> {
  return db
    .updateTable('ingestion_jobs')
    .set({
      options: sql`jsonb_set(jsonb_set(options, '{segments}', (options -> 'segments') || ${JSON.stringify([segment])}::jsonb), '{rows}', to_jsonb((options ->> 'rows')::bigint + ${segment.rows}))`,
      size_bytes: sql`size_bytes + ${segment.bytes}`,
      updated_at: sql`now()`,
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .where('kind', '=', 'push')
    .where('status', '=', 'queued')
    .where('attempts', '=', 0)
    .where(sql<boolean>`jsonb_array_length(options -> 'segments') < ${MAX_PUSH_SEGMENTS}`)
    .returningAll()
    .executeTakeFirst();
}
