export { createRedis } from './redis.js';
export { createIngestQueue, dequeueIngest, enqueueIngest, ingestJobOptions, ingestPayloadSchema, INGEST_QUEUE, type IngestPayload, type RetryPolicy } from './ingest-queue.js';
export { JobEvents } from './job-events.js';
export { createSourceQueue, nextSourceRun, removeSourceSchedule, sourceTickSchema, SOURCE_RUNS_QUEUE, upsertSourceSchedule, type SourceSchedule, type SourceTick } from './source-queue.js';
