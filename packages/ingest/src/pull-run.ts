import { findSource, withTenant, type DB, type Job } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { RowChunk } from '@sluice/pipeline';
import type { Kysely } from 'kysely';
import type { FetchSettings } from './fetch-page.js';
import { compareCursor, pullRows, type PullProgress } from './pull-rows.js';
import { incrementalSchema, paginationSchema } from './source-spec.js';

/** How pull runs fetch, and the page cap of a source that sets none. */
export type PullSettings = FetchSettings & { maxPages: number };

/** A pull run's rows, and what to commit with its completion. */
export interface OpenedPull {
  sourceId: string;
  rows: AsyncIterable<RowChunk>;
  progress: PullProgress;
  /** The source's next incremental state, or null to leave it as it is. */
  nextState(): { cursor: string | number } | null;
}

/** Opens a pull run (a job of kind `pull`): reads its source and starts reading pages. */
export async function openPull(db: Kysely<DB>, settings: PullSettings, job: Job, signal: AbortSignal): Promise<OpenedPull> {
  const sourceId = job.source_id;
  const source = sourceId === null ? undefined : await withTenant(db, job.tenant_id, (trx) => findSource(trx, job.tenant_id, sourceId));
  if (sourceId === null || source === undefined) throw new AppError('source_missing', 'the source of this run no longer exists');
  const incremental = source.incremental === null ? null : incrementalSchema.parse(source.incremental);
  const since = source.state?.cursor ?? null;
  const progress: PullProgress = { pages: 0, items: 0, highest: null, capped: false };
  const rows = pullRows(
    {
      url: source.url,
      method: source.method,
      headers: source.headers,
      body: source.body,
      itemsPath: source.items_path,
      pagination: paginationSchema.parse(source.pagination),
      maxPages: source.max_pages ?? settings.maxPages,
      incremental,
      since,
    },
    settings,
    progress,
    signal,
  );
  return {
    sourceId,
    rows,
    progress,
    nextState: () => {
      if (incremental === null || progress.highest === null) return null;
      // A server that ignores the parameter must not move the cursor backwards.
      if (since !== null && compareCursor(progress.highest, since) <= 0) return null;
      return { cursor: progress.highest };
    },
  };
}
