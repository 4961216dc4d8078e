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
