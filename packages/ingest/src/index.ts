export { runIngestJob, type IngestDeps, type RunOptions, type RunResult } from './run-ingest-job.js';
export { createIngestWorker, workerSettings, type IngestWorker, type IngestWorkerOptions } from './ingest-worker.js';
export { reconcileJobs } from './reconciler.js';
export { assertNoEviction } from './redis-policy.js';
export { PushBatcher, type PushBatcherDeps, type PushBatcherOptions, type PushReceipt } from './push-batcher.js';
