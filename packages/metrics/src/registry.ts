import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A Prometheus registry of the process's own, with Node's default metrics (CPU, memory,
 * event loop lag, GC, handles) and a `service` label on every series. One per process,
 * never prom-client's global one, so tests and several apps in one process stay apart.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
