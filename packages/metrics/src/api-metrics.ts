import { Gauge, Histogram, type Registry } from 'prom-client';

/** What the API measures: each request's duration, and the event streams held open. */
export interface ApiMetrics {
  /** Seconds per request by method, route pattern (not the raw URL) and status code. */
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Server-Sent Events streams open now. */
  eventStreams: Gauge;
}

/** Registers the API's metrics in `registry`. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      // Uploads of large files take minutes; reads take milliseconds.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    eventStreams: new Gauge({
      name: 'sluice_event_streams_open',
      help: 'Server-Sent Events streams of job progress open now',
      registers: [registry],
    }),
  };
}
