import { IngestMetrics } from './ingest-metrics.js';
import { createMetricsRegistry } from './registry.js';

// Time is the subject here, so the clock is the test's.
function setup(concurrency: number) {
  let now = 1_000;
  const registry = createMetricsRegistry('test');
  const metrics = new IngestMetrics(registry, { concurrency, now: () => now });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => name === m.name || name.startsWith(`${m.name}_`));
    const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
    const found = values.find((v) => (v.metricName ?? name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return found?.value ?? 0;
  };
  return { metrics, value, at: (t: number) => void (now = 1_000 + t) };
}

describe('IngestMetrics busy time', () => {
  test('the ratio is slot time in use over the last minute; the counter credits runs still going', async () => {
    const { metrics, value, at } = setup(2);
    at(0);
    const endA = metrics.runStarted();
    at(10);
    metrics.runStarted(); // B, still running at the end
    at(30);
    endA('completed');
    at(60);
    // A 0-30 and B 10-60: 80 slot-seconds of 120.
    expect(await value('sluice_worker_busy_ratio')).toBeCloseTo(80 / 120, 6);
    expect(await value('sluice_worker_busy_seconds_total')).toBeCloseTo(80, 6);
    expect(await value('sluice_worker_active_jobs')).toBe(1);
    at(100);
    // The window is 40-100: A is out of it, B filled it on one of two slots.
    expect(await value('sluice_worker_busy_ratio')).toBeCloseTo(0.5, 6);
    expect(await value('sluice_worker_busy_seconds_total')).toBeCloseTo(120, 6);
  });

  test('before a minute has passed the window is the time since start; idle is 0', async () => {
    const { metrics, value, at } = setup(1);
    at(20);
    expect(await value('sluice_worker_busy_ratio')).toBe(0);
    const end = metrics.runStarted();
    at(30);
    end('failed');
    at(40);
    expect(await value('sluice_worker_busy_ratio')).toBeCloseTo(10 / 40, 6);
    expect(await value('sluice_job_duration_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(await value('sluice_job_duration_seconds_sum', { outcome: 'failed' })).toBeCloseTo(10, 6);
  });

  test('ending a run twice counts it once', async () => {
    const { metrics, value, at } = setup(1);
    const end = metrics.runStarted();
    at(5);
    end('completed');
    end('completed');
    expect(await value('sluice_job_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(await value('sluice_worker_busy_seconds_total')).toBeCloseTo(5, 6);
  });
});
