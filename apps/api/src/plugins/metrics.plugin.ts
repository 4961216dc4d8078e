import type { ApiMetrics } from '@sluice/metrics';
import { registerQueueDepth } from '@sluice/metrics';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { z } from 'zod';

export interface MetricsPluginOptions {
  registry: Registry;
  metrics: ApiMetrics;
  queue: Queue;
}

/**
 * Prometheus metrics at `GET /metrics`: each request's duration by method, route pattern
 * (never the raw URL, so ids do not explode the series) and status; the queue's depth by
 * state, read from Redis at scrape time; the process's own (CPU, memory, event loop, GC).
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { registry, metrics, queue }: MetricsPluginOptions) => {
    registerQueueDepth(registry, [queue], (error) => app.log.warn({ err: error }, 'queue depth unavailable for /metrics'));
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
    app.get(
      '/metrics',
      {
        // Like /health: for the scraper on the private network; no tenant's data is in it.
        config: { auth: 'none', rateLimit: false },
        schema: {
          tags: ['operations'],
          security: [],
          summary: 'Prometheus metrics of this API process (text exposition format)',
          produces: ['text/plain'],
          response: { 200: z.string() },
        },
      },
      async (_request, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()),
    );
  },
  { name: 'sluice-metrics' },
);
