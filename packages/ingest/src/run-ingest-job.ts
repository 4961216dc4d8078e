import {
  AtomicWriter,
  BatchWriter,
  completeJob,
  completePullRun,
  datasetHasRecords,
  failJob,
  findDatasetById,
  inputKeys,
  saveJobColumns,
  saveJobReading,
  startJob,
  withTenant,
  type DB,
  type Job,
  type JobErrorInfo,
} from '@sluice/db';
import { AppError, isAppError, isTransient } from '@sluice/errors';
import type { Logger } from '@sluice/logging';
import type { IngestMetrics } from '@sluice/metrics';
import {
  batchRows,
  checkHeader,
  decodeText,
  effectiveReadOptions,
  enforceErrorBudget,
  gunzipCapped,
  isFormat,
  parseRows,
  parseXlsx,
  peekBytes,
  prefetch,
  prepareRows,
  sniffContent,
  storedReadOptions,
  type BatchLimits,
  type DatasetSpec,
  type Format,
  type ReadOptions,
  type RowChunk,
  type StepContext,
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
  files: FileLimits;
  pull: PullSettings;
  /** Counts rows and batch latency by dataset, when the process exposes metrics. */
  metrics?: IngestMetrics | undefined;
}

/** Bounds on one file (see `Config.files`). */
export interface FileLimits {
  maxDecompressedBytes: number;
  maxLineChars: number;
  maxFieldChars: number;
  maxColumns: number;
  maxJsonDepth: number;
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

/** Calls `opened` once, before the first rows go on (or at the end of a file without rows). */
async function* onOpened(chunks: AsyncIterable<RowChunk>, opened: (columns: readonly string[] | null) => Promise<void>): AsyncGenerator<RowChunk> {
  let done = false;
  for await (const chunk of chunks) {
    if (!done) {
      await opened(chunk.columns);
      done = true;
    }
    yield chunk;
  }
  if (!done) await opened(null);
}

/**
 * The rows of a job's file: unpacked when its bytes are gzip (up to the decompressed cap),
 * judged by its first bytes, decoded (or read as a workbook) and parsed with the job's read
 * options. What was decided goes into `reading`, for the job to show.
 */
async function openRows(
  stored: AsyncIterable<Uint8Array>,
  format: Format,
  options: ReadOptions,
  spec: Pick<DatasetSpec, 'fields'>,
  limits: FileLimits,
  reading: Record<string, unknown>,
  ctx: StepContext,
): Promise<AsyncIterable<RowChunk>> {
  let { head, bytes } = await peekBytes(stored);
  if (sniffContent(head, { format }).kind === 'gzip') {
    reading.compression = 'gzip';
    ({ head, bytes } = await peekBytes(gunzipCapped(bytes, limits.maxDecompressedBytes, ctx)));
  }
  const sniff = sniffContent(head, { format, encoding: options.encoding });
  if (sniff.kind === 'gzip') throw new AppError('unsupported_media_type', 'the file is gzip inside gzip; Sluice unpacks one layer');
  if (sniff.refused !== undefined) throw new AppError('unsupported_media_type', sniff.refused);
  const columns = options.header === false ? spec.fields.map((f) => f.name) : undefined;
  if (format === 'csv' || format === 'xlsx') reading.header = options.header !== false;
  if (format === 'xlsx') {
    const onSheet = (name: string) => void (reading.sheet = name);
    return parseXlsx(bytes, { sheet: options.sheet, columns, maxColumns: limits.maxColumns, maxFieldChars: limits.maxFieldChars, onSheet }, ctx);
  }
  const text = decodeText(
    bytes,
    {
      encoding: options.encoding,
      onDecided: (d) => {
        reading.encoding = d.encoding;
        reading.bom = d.bom;
        reading.encodingBy = d.by;
      },
    },
    ctx,
  );
  return parseRows(
    format,
    text,
    {
      csv: {
        delimiter: options.delimiter,
        columns,
        onDelimiter: (delimiter, by) => {
          reading.delimiter = delimiter;
          reading.delimiterBy = by;
        },
        maxRecordChars: limits.maxLineChars,
        maxFieldChars: limits.maxFieldChars,
        maxColumns: limits.maxColumns,
      },
      json: { maxRecordChars: limits.maxLineChars, maxDepth: limits.maxJsonDepth },
    },
    ctx,
  );
}

/** The read options of a job: its dataset's, overridden by the upload's. */
function readOptionsOf(job: Job, datasetOptions: unknown): ReadOptions {
  return effectiveReadOptions(storedReadOptions(datasetOptions), storedReadOptions(job.options));
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
  // Every query runs as the payload's tenant: a payload naming another tenant's job finds
  // nothing, so it cannot make this run read or write outside its tenant.
  const scoped = <T>(fn: (trx: Kysely<DB>) => Promise<T>) => withTenant(db, tenantId, fn);

  // Claiming the job and reading what its run needs to know share one transaction.
  const opened = await scoped(async (trx) => {
    const job = await startJob(trx, tenantId, jobId);
    if (job === undefined) return undefined;
    const dataset = await findDatasetById(trx, tenantId, job.dataset_id);
    const hasRecords = dataset !== undefined && (await datasetHasRecords(trx, tenantId, dataset.id));
    return { job, dataset, hasRecords };
  });
  if (opened === undefined) {
    log.info('job is not open; nothing to do');
    return 'not-open';
  }
  const { job, dataset, hasRecords } = opened;
  const started = performance.now();
  const resumedAt = job.checkpoint;
  log.info('job started', { attempt: job.attempts, checkpoint: resumedAt, format: job.format });

  try {
    if (dataset === undefined) throw new AppError('dataset_missing', 'the dataset of this job no longer exists');
    const spec = { fields: dataset.fields as DatasetSpec['fields'], key: dataset.key };
    const fileOptions = readOptionsOf(job, dataset.options);
    const ctx = { signal: options.signal };
    const read = { bytes: 0 };
    const size = job.size_bytes ?? 0;
    const reading: Record<string, unknown> = {};

    // A pull run reads its source's pages; every other job reads its stored input.
    let pull: OpenedPull | undefined;
    let parsed: AsyncIterable<RowChunk>;
    if (job.kind === 'pull') {
      pull = await openPull(db, deps.pull, job, options.signal);
      parsed = pull.rows;
    } else {
      const keys = inputKeys(job);
      const format = job.format;
      if (!isFormat(format) || keys.length === 0) throw new AppError('bad_request', `job has no readable file (format ${format})`);
      parsed = await openRows(countBytes(readAll(storage, keys), read), format, fileOptions, spec, deps.files, reading, ctx);
    }
    const unknownColumns = fileOptions.unknownColumns ?? 'ignore';
    const rows = onOpened(parsed, async (columns) => {
      // What was decided is saved even when the header fails its check: it shows why.
      let mismatch: { error: unknown } | undefined;
      if (columns !== null) {
        try {
          reading.columns = checkHeader(columns, spec.fields, unknownColumns);
        } catch (error) {
          mismatch = { error };
          reading.columns = columns.map((column) => ({ column }));
        }
        if (resumedAt === 0) await scoped((trx) => saveJobColumns(trx, tenantId, jobId, columns));
      }
      if (resumedAt === 0) await scoped((trx) => saveJobReading(trx, tenantId, jobId, { ...reading, decimal: fileOptions.decimal ?? '.', unknownColumns }));
      if (mismatch !== undefined) throw mismatch.error;
    });
    const atomic = fileOptions.atomic === true && job.kind !== 'pull';
    const prepared = prepareRows(
      rows,
      spec,
      {
        skipThrough: resumedAt,
        decimal: fileOptions.decimal,
        unknownColumns: fileOptions.unknownColumns,
        invalidBytesIn: () => (typeof reading.encoding === 'string' && reading.encoding.startsWith('utf-') ? reading.encoding.toUpperCase() : undefined),
      },
      ctx,
    );
    const budgeted = enforceErrorBudget(prepared, fileOptions, atomic ? { rows: 0, invalid: 0 } : { rows: Number(job.rows_seen), invalid: Number(job.rows_invalid) }, ctx);
    const batches = prefetch(batchRows(budgeted, deps.batch));
    const progress = () => options.onProgress?.(size > 0 ? Math.min(read.bytes / size, 1) : 0);
    const ref = { id: jobId, tenantId, datasetId: dataset.id, attempt: job.attempts };

    if (atomic) {
      const writer = new AtomicWriter(pool, ref, { onWritten: progress });
      try {
        for await (const batch of batches) {
          await writer.write(batch, read.bytes);
          if (options.signal.aborted) break;
        }
        if (options.signal.aborted) {
          await writer.abandon({ keepCounts: false });
          log.info('atomic job interrupted by shutdown; it starts over on its next run');
          return 'interrupted';
        }
        const outcome = await writer.commit();
        log.info('atomic job completed', { rows: outcome.rows, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
        return 'completed';
      } catch (error) {
        await writer.abandon({ keepCounts: !options.signal.aborted && !isTransient(error) });
        throw error;
      }
    }

    let checkpoint = resumedAt;
    const writer = new BatchWriter(pool, ref, {
      checkpoint: resumedAt,
      probeUnchanged: hasRecords,
      onCommitted: (outcome, batch, seconds) => {
        checkpoint = batch.lastRow;
        deps.metrics?.batchCommitted(dataset.name, outcome, seconds);
        progress();
        log.debug('batch committed', { lastRow: batch.lastRow, ...outcome });
      },
    });
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
    if (pull === undefined) await scoped((trx) => completeJob(trx, tenantId, jobId, job.attempts));
    else {
      const { sourceId, progress } = pull;
      const state = pull.nextState();
      await scoped((trx) => completePullRun(trx, tenantId, jobId, job.attempts, sourceId, state));
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
    await scoped((trx) => failJob(trx, tenantId, jobId, info, final, job.attempts));
    if (final) {
      log.error('job failed', { error: info, transient });
      if (!transient) return 'failed';
    } else {
      log.warn('job attempt failed; it will be retried', { error: info });
    }
    throw error;
  }
}
