export { runIngestJob, type IngestDeps, type RunOptions, type RunResult } from './run-ingest-job.js';
export { createIngestWorker, workerSettings, type IngestWorker, type IngestWorkerOptions } from './ingest-worker.js';
export { reconcileJobs } from './reconciler.js';
export { assertNoEviction } from './redis-policy.js';
export {
  publishQueueDepth,
  QUEUE_DEPTH_METRICS,
  readQueueDepth,
  startQueueDepthPublisher,
  type QueueDepth,
  type QueueDepthPublisher,
} from './queue-depth-publisher.js';
export { PushBatcher, type PushBatcherDeps, type PushBatcherOptions, type PushReceipt } from './push-batcher.js';
export { createSourceTickWorker, startSourceRun, type InTenant, type SourceTickWorker, type StartedRun } from './source-runs.js';
export { openPull, type OpenedPull, type PullSettings } from './pull-run.js';
export { atPath, durationMs, incrementalSchema, jsonPathSchema, paginationSchema, scheduleSchema, type Incremental, type Pagination, type Schedule } from './source-spec.js';
export { fetchPage, retryAfterMs, type FetchSettings } from './fetch-page.js';
export { compareCursor, nextLink, pullRows, type PullProgress, type PullSpec } from './pull-rows.js';
