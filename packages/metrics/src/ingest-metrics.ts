import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** One committed batch's counts, as the batch writer reports them. */
export interface BatchCounts {
  rows: number;
  invalid: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

/** The outcome of one run of a job: what `runIngestJob` returned, or `error` when it threw. */
export type RunOutcome = 'completed' | 'failed' | 'not-open' | 'cancelled' | 'superseded' | 'interrupted' | 'error';

const BUSY_WINDOW_SECONDS = 60;

/**
 * The worker's metrics: rows by dataset and fate, batch commit latency, run durations, and
 * how busy the worker's job slots are.
 *
 * Design: busy time is kept as slot-seconds. `sluice_worker_busy_seconds_total` counts them
 * (a run in progress is credited up to each scrape, so the counter never jumps at the end of
 * a long job); `rate()` of it over `sluice_worker_concurrency` is the busy ratio over any
 * window. `sluice_worker_busy_ratio` is the same over the last minute, computed here from
 * the runs' start and end times, so it does not depend on who scrapes how often.
 */
export class IngestMetrics {
  private readonly rowsProcessed: Counter<'dataset'>;
  private readonly rowsRejected: Counter<'dataset'>;
  private readonly rowsUpserted: Counter<'dataset' | 'result'>;
  private readonly batchSeconds: Histogram;
  private readonly jobSeconds: Histogram<'outcome'>;
  private readonly busySeconds: Counter;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** Runs in progress: when each started, and up to when its time is already counted. */
  private readonly running = new Map<symbol, { start: number; counted: number }>();
  /** Runs that ended within the window: [start, end]. */
  private finished: Array<[number, number]> = [];

  constructor(registry: Registry, options: { concurrency: number; now?: () => number }) {
    this.now = options.now ?? (() => performance.now() / 1000);
    this.startedAt = this.now();
    const registers = [registry];
    this.rowsProcessed = new Counter({
      name: 'sluice_rows_processed_total',
      help: 'Rows read from input, by dataset',
      labelNames: ['dataset'],
      registers,
    });
    this.rowsRejected = new Counter({
      name: 'sluice_rows_rejected_total',
      help: 'Rows that failed validation, by dataset',
      labelNames: ['dataset'],
      registers,
    });
    this.rowsUpserted = new Counter({
      name: 'sluice_rows_upserted_total',
      help: 'Valid rows by what the upsert did with them (inserted, updated, unchanged), by dataset',
      labelNames: ['dataset', 'result'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'sluice_batch_commit_duration_seconds',
      help: 'Seconds from handing a batch to the writer to its commit (records, rejected rows, checkpoint)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.jobSeconds = new Histogram({
      name: 'sluice_job_duration_seconds',
      help: 'Seconds one run of an ingestion job took on this worker, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.busySeconds = new Counter({
      name: 'sluice_worker_busy_seconds_total',
      help: 'Slot-seconds spent running jobs; rate() of it over sluice_worker_concurrency is the busy ratio',
      registers,
      collect: () => this.creditRunning(),
    });
    new Gauge({ name: 'sluice_worker_concurrency', help: 'Jobs this worker runs at once at most', registers }).set(options.concurrency);
    const activeJobs: Gauge = new Gauge({
      name: 'sluice_worker_active_jobs',
      help: 'Jobs this worker is running now',
      registers,
      collect: () => activeJobs.set(this.running.size),
    });
    const busyRatio: Gauge = new Gauge({
      name: 'sluice_worker_busy_ratio',
      help: `Share of the worker's job slots in use over the last ${BUSY_WINDOW_SECONDS} s (0-1)`,
      registers,
      collect: () => busyRatio.set(this.busyRatio(options.concurrency)),
    });
  }

  /** Counts one committed batch of `dataset` that took `seconds` to commit. */
  batchCommitted(dataset: string, counts: BatchCounts, seconds: number): void {
    this.rowsProcessed.inc({ dataset }, counts.rows);
    this.rowsRejected.inc({ dataset }, counts.invalid);
    this.rowsUpserted.inc({ dataset, result: 'inserted' }, counts.inserted);
    this.rowsUpserted.inc({ dataset, result: 'updated' }, counts.updated);
    this.rowsUpserted.inc({ dataset, result: 'unchanged' }, counts.unchanged);
    this.batchSeconds.observe(seconds);
  }

  /** Marks a run's start; call the returned function with its outcome when it ends. */
  runStarted(): (outcome: RunOutcome) => void {
    const id = Symbol('run');
    const start = this.now();
    this.running.set(id, { start, counted: start });
    return (outcome) => {
      const run = this.running.get(id);
      if (run === undefined) return;
      const end = this.now();
      this.running.delete(id);
      this.busySeconds.inc(end - run.counted);
      this.finished.push([start, end]);
      this.jobSeconds.observe({ outcome }, end - start);
    };
  }

  private creditRunning(): void {
    const now = this.now();
    for (const run of this.running.values()) {
      this.busySeconds.inc(now - run.counted);
      run.counted = now;
    }
  }

  private busyRatio(concurrency: number): number {
    const now = this.now();
    const from = Math.max(now - BUSY_WINDOW_SECONDS, this.startedAt);
    this.finished = this.finished.filter(([, end]) => end > from);
    let busy = 0;
    for (const [start, end] of this.finished) busy += end - Math.max(start, from);
    for (const run of this.running.values()) busy += now - Math.max(run.start, from);
    const span = (now - from) * concurrency;
    return span > 0 ? Math.min(1, busy / span) : 0;
  }
}
