export { createApiMetrics, type ApiMetrics } from './api-metrics.js';
export { IngestMetrics, type BatchCounts, type RunOutcome } from './ingest-metrics.js';
export { serveMetrics, type MetricsServer } from './metrics-server.js';
export { QUEUE_STATES, registerQueueDepth } from './queue-depth.js';
export { createMetricsRegistry } from './registry.js';
export type { Registry } from 'prom-client';
