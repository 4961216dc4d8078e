export { createRedis } from './redis.js';
export { createIngestQueue, dequeueIngest, enqueueIngest, ingestJobOptions, ingestPayloadSchema, INGEST_QUEUE, type IngestPayload, type RetryPolicy } from './ingest-queue.js';
export { JobEvents } from './job-events.js';
