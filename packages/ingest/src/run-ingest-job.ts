import {
  BatchWriter,
  completeJob,
  completePullRun,
  datasetHasRecords,
  failJob,
  findDatasetById,
  inputKeys,
  saveJobColumns,
  startJob,
  withTenant,
  type DB,
  type JobErrorInfo,
} from '@sluice/db';
import { AppError, isAppError, isTransient } from '@sluice/errors';
import type { Logger } from '@sluice/logging';
import {
  batchRows,
  decodeUtf8,
  isFormat,
  parseRows,
  prefetch,
  prepareRows,
  type BatchLimits,
  type DatasetSpec,
  type RowChunk,
} from '@sluice/pipeline';
import type { IngestPayload } from '@sluice/queue';
import type { Storage } from '@sluice/storage';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { openPull, type OpenedPull, type PullSettings } from './pull-run.js';

/** What running an ingestion job needs. */
export interface IngestDeps {
  db: Kysely<DB>;
  pool: pg.Pool;
  storage: Storage;
  logger: Logger;
  batch: BatchLimits;
  pull: PullSettings;
}

export interface RunOptions {
  /** Aborted when the worker shuts down: the run stops at the next batch boundary. */
  signal: AbortSignal;
  /** Whether a transient failure of this run is the job's last chance. */
  lastAttempt: boolean;
  /** Called after every committed batch with the fraction of the file read. */
  onProgress?: (progress: number) => void;
}

export type RunResult = 'completed' | 'failed' | 'not-open' | 'cancelled' | 'superseded' | 'interrupted';

async function* countBytes(source: AsyncIterable<Uint8Array>, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    counter.bytes += chunk.length;
    yield chunk;
  }
}

/** The job's stored input: its file, or a push job's segments one after another. */
async function* readAll(storage: Storage, keys: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const key of keys) yield* (await storage.read(key)) as AsyncIterable<Uint8Array>;
}

async function* onFirstColumns(
  chunks: AsyncIterable<RowChunk>,
  save: (columns: readonly string[]) => Promise<void>,
): AsyncGenerator<RowChunk> {
  let saved = false;
  for await (const chunk of chunks) {
    if (!saved && chunk.columns !== null) {
      await save(chunk.columns);
      saved = true;
    }
    yield chunk;
  }
}

function errorInfo(error: unknown): JobErrorInfo {
  if (isAppError(error)) {
    const line = (error.details as { line?: number } | undefined)?.line ?? null;
    return { code: error.code, message: error.message, line };
  }
  const e = error as { code?: unknown; message?: unknown };
  return { code: typeof e.code === 'string' ? e.code : 'internal', message: typeof e.message === 'string' ? e.message : String(error) };
}

/**
 * Runs one ingestion job from its checkpoint to the end of its file.
 *
 * Design: the job row is the source of truth. Each batch commits records, rejected rows and
 * the new checkpoint together (see `BatchWriter`), so a run that dies at any point is
 * resumed by the next one from the last committed row, and counts come out as if it had
 * never stopped. Bad data fails the job at once; a transient fault is rethrown for the
 * queue to retry, and marks the job failed only on its last attempt.
 */
export async function runIngestJob(deps: IngestDeps, payload: IngestPayload, options: RunOptions): Promise<RunResult> {
  const { db, pool, storage } = deps;
  const { tenantId, jobId } = payload;
  const log = deps.logger.child({ jobId, tenantId, correlationId: payload.correlationId });

  const job = await startJob(db, tenantId, jobId);
  if (job === undefined) {
    log.info('job is not open; nothing to do');
    return 'not-open';
  }
  const started = performance.now();
  const resumedAt = job.checkpoint;
  log.info('job started', { attempt: job.attempts, checkpoint: resumedAt, format: job.format });

  try {
    const dataset = await findDatasetById(db, tenantId, job.dataset_id);
    if (dataset === undefined) throw new AppError('dataset_missing', 'the dataset of this job no longer exists');
    const spec = { fields: dataset.fields as DatasetSpec['fields'], key: dataset.key };
    const ctx = { signal: options.signal };
    const read = { bytes: 0 };
    const size = job.size_bytes ?? 0;

    // A pull run reads its source's pages; every other job reads its stored file.
    let pull: OpenedPull | undefined;
    let rows: AsyncIterable<RowChunk>;
    if (job.kind === 'pull') {
      pull = await openPull(db, deps.pull, job, options.signal);
      rows = pull.rows;
    } else {
      const keys = inputKeys(job);
      if (!isFormat(job.format) || keys.length === 0) throw new AppError('bad_request', `job has no readable file (format ${job.format})`);
      const source = countBytes(readAll(storage, keys), read);
      rows = onFirstColumns(parseRows(job.format, decodeUtf8(source, ctx), {}, ctx), (columns) =>
        resumedAt === 0 ? saveJobColumns(db, tenantId, jobId, columns) : Promise.resolve(),
      );
    }
    const batches = prefetch(batchRows(prepareRows(rows, spec, { skipThrough: resumedAt }, ctx), deps.batch));

    let checkpoint = resumedAt;
    const writer = new BatchWriter(
      pool,
      { id: jobId, tenantId, datasetId: dataset.id, attempt: job.attempts },
      {
        checkpoint: resumedAt,
        probeUnchanged: await datasetHasRecords(pool, tenantId, dataset.id),
        onCommitted: (outcome, batch) => {
          checkpoint = batch.lastRow;
          options.onProgress?.(size > 0 ? Math.min(read.bytes / size, 1) : 0);
          log.debug('batch committed', { lastRow: batch.lastRow, ...outcome });
        },
      },
    );
    try {
      for await (const batch of batches) {
        await writer.write(batch, read.bytes);
        if (options.signal.aborted) break;
      }
    } catch (error) {
      // Rows read before the input broke still land; then the error decides the job's fate.
      await writer.flush().catch(() => undefined);
      throw error;
    }
    await writer.flush();
    if (options.signal.aborted) {
      log.info('job interrupted by shutdown; it resumes from its checkpoint', { checkpoint });
      return 'interrupted';
    }
    if (pull === undefined) await completeJob(db, tenantId, jobId, job.attempts);
    else {
      const { sourceId, progress } = pull;
      const state = pull.nextState();
      await withTenant(db, tenantId, (trx) => completePullRun(trx, tenantId, jobId, job.attempts, sourceId, state));
      log.info('pull run read its source', {
        pages: progress.pages,
        items: progress.items,
        cappedAtMaxPages: progress.capped,
        advancedState: state !== null,
      });
    }
    const seconds = (performance.now() - started) / 1000;
    log.info('job completed', {
      rows: checkpoint - resumedAt,
      seconds: Number(seconds.toFixed(3)),
      rowsPerSecond: Math.round((checkpoint - resumedAt) / seconds),
    });
    return 'completed';
  } catch (error) {
    if (options.signal.aborted) {
      log.info('job interrupted by shutdown; it resumes from its checkpoint');
      return 'interrupted';
    }
    if (isAppError(error) && error.code === 'job_cancelled') {
      log.info('job cancelled; stopped at a batch boundary');
      return 'cancelled';
    }
    if (isAppError(error) && error.code === 'job_superseded') {
      log.warn('another run owns this job now; this one stops', { reason: error.message });
      return 'superseded';
    }
    const transient = isTransient(error);
    const final = !transient || options.lastAttempt;
    const info = errorInfo(error);
    await failJob(db, tenantId, jobId, info, final, job.attempts);
    if (final) {
      log.error('job failed', { error: info, transient });
      if (!transient) return 'failed';
    } else {
      log.warn('job attempt failed; it will be retried', { error: info });
    }
    throw error;
  }
}
