export { createRedis } from './redis.js';
export { createIngestQueue, enqueueIngest, ingestJobOptions, ingestPayloadSchema, INGEST_QUEUE, type IngestPayload, type RetryPolicy } from './ingest-queue.js';
