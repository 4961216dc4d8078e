import { serveMetrics, type MetricsServer } from '@sluice/metrics';
import { getJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { sampleValue, scrape } from '../helpers/prometheus.js';
import { createDataset, ingest, request, UUID_RE } from './support.js';

let stack: TestStack;
let workerMetrics: MetricsServer;
beforeAll(async () => {
  stack = await startTestStack({ BATCH_ROWS: '2' });
  workerMetrics = await serveMetrics(stack.workerMetrics, { host: '127.0.0.1', port: 0 });
  await createDataset(stack, {
    name: 'people',
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'age', type: 'integer', min: 0 },
    ],
  });
});
afterAll(async () => {
  await workerMetrics.close();
  await stack.close();
});

const api = () => scrape(`${stack.baseUrl}/metrics`);
const worker = () => scrape(`http://127.0.0.1:${workerMetrics.port}/metrics`);

const FIRST = 'email,age\na@example.com,1\nb@example.com,2\nnot-an-email,3\nc@example.com,-1\nd@example.com,4\n';
const CHANGED = 'email,age\na@example.com,1\nb@example.com,20\nd@example.com,4\ne@example.com,5\n';

describe('the worker’s metrics (its METRICS_PORT listener)', () => {
  test('rows by dataset and fate, batch latency and run durations move with real uploads', async () => {
    const first = await ingest(stack, 'people', 'people.csv', FIRST);
    expect(first.job.counts).toEqual({ rows: 5, valid: 3, invalid: 2, inserted: 3, updated: 0, unchanged: 0 });
    let s = await worker();
    expect(sampleValue(s, 'sluice_rows_processed_total', { dataset: 'people' })).toBe(5);
    expect(sampleValue(s, 'sluice_rows_rejected_total', { dataset: 'people' })).toBe(2);
    expect(sampleValue(s, 'sluice_rows_upserted_total', { dataset: 'people', result: 'inserted' })).toBe(3);
    expect(sampleValue(s, 'sluice_job_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    // Five rows in batches of two: three batches.
    expect(sampleValue(s, 'sluice_batch_commit_duration_seconds_count')).toBe(3);
    expect(sampleValue(s, 'sluice_batch_commit_duration_seconds_sum')).toBeGreaterThan(0);

    const second = await ingest(stack, 'people', 'people.csv', CHANGED);
    expect(second.job.counts).toEqual({ rows: 4, valid: 4, invalid: 0, inserted: 1, updated: 1, unchanged: 2 });
    s = await worker();
    expect(sampleValue(s, 'sluice_rows_processed_total', { dataset: 'people' })).toBe(9);
    expect(sampleValue(s, 'sluice_rows_rejected_total', { dataset: 'people' })).toBe(2);
    expect(sampleValue(s, 'sluice_rows_upserted_total', { dataset: 'people', result: 'inserted' })).toBe(4);
    expect(sampleValue(s, 'sluice_rows_upserted_total', { dataset: 'people', result: 'updated' })).toBe(1);
    expect(sampleValue(s, 'sluice_rows_upserted_total', { dataset: 'people', result: 'unchanged' })).toBe(2);
    expect(sampleValue(s, 'sluice_job_duration_seconds_count', { outcome: 'completed' })).toBe(2);
    expect(sampleValue(s, 'sluice_batch_commit_duration_seconds_count')).toBe(5);
    for (const sample of s.filter((x) => x.name.startsWith('sluice_'))) expect(sample.labels.service).toBe('sluice-worker');
  });

  test('a run that fails on its data is counted as failed', async () => {
    const before = sampleValue(await worker(), 'sluice_job_duration_seconds_count', { outcome: 'failed' });
    const { job } = await ingest(stack, 'people', 'broken.json', '[{"email": "x@example.com"}, {"email": ');
    expect(job.status).toBe('failed');
    expect(sampleValue(await worker(), 'sluice_job_duration_seconds_count', { outcome: 'failed' })).toBe(before + 1);
  });

  test('busy time and ratio: the slots were used, within bounds', async () => {
    const s = await worker();
    expect(sampleValue(s, 'sluice_worker_concurrency')).toBe(stack.config.worker.concurrency);
    expect(sampleValue(s, 'sluice_worker_active_jobs')).toBe(0);
    expect(sampleValue(s, 'sluice_worker_busy_seconds_total')).toBeGreaterThan(0);
    const ratio = sampleValue(s, 'sluice_worker_busy_ratio');
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1);
  });

  test('the process’s own metrics are there; other paths answer 404', async () => {
    const s = await worker();
    expect(sampleValue(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(s, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${workerMetrics.port}/other`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});

describe('the API’s GET /metrics', () => {
  test('request durations by method, route pattern and status', async () => {
    const before = await api();
    const uploads = sampleValue(before, 'http_request_duration_seconds_count', { method: 'POST', route: '/upload', status: '202' });
    expect(uploads).toBeGreaterThanOrEqual(3);
    const { job } = await ingest(stack, 'people', 'again.csv', FIRST);
    await getJson(stack, `/jobs/${job.id}`);
    await getJson(stack, '/jobs/00000000-0000-4000-8000-000000000000');
    await request(stack, 'GET', '/no-such-route');

    const s = await api();
    expect(sampleValue(s, 'http_request_duration_seconds_count', { method: 'POST', route: '/upload', status: '202' })).toBe(uploads + 1);
    expect(sampleValue(s, 'http_request_duration_seconds_count', { method: 'GET', route: '/jobs/:id', status: '404' })).toBe(
      sampleValue(before, 'http_request_duration_seconds_count', { method: 'GET', route: '/jobs/:id', status: '404' }) + 1,
    );
    expect(sampleValue(s, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBe(
      sampleValue(before, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }) + 1,
    );
    expect(sampleValue(s, 'http_request_duration_seconds_bucket', { method: 'POST', route: '/upload', status: '202', le: '+Inf' })).toBe(
      uploads + 1,
    );
    // Route patterns, never raw URLs: no id ever becomes a label value.
    const routes = new Set(s.filter((x) => x.name === 'http_request_duration_seconds_count').map((x) => x.labels.route!));
    expect([...routes].filter((r) => UUID_RE.test(r.split('/')[2] ?? '') || r.includes('no-such-route'))).toEqual([]);
    expect(sampleValue(s, 'process_resident_memory_bytes', { service: 'sluice-api' })).toBeGreaterThan(0);
  });

  test('queue depth by state, read from Redis at each scrape', async () => {
    await stack.stopWorker();
    try {
      const res = await upload(stack, 'waits.csv', 'email\nw@example.com\n', { dataset: 'people' });
      expect(res.status).toBe(202);
      const s = await api();
      expect(sampleValue(s, 'sluice_queue_jobs', { queue: 'ingest', state: 'waiting' })).toBe(1);
      expect(sampleValue(s, 'sluice_queue_jobs', { queue: 'ingest', state: 'active' })).toBe(0);
      expect(
        s
          .filter((x) => x.name === 'sluice_queue_jobs')
          .map((x) => x.labels.state)
          .sort(),
      ).toEqual(['active', 'delayed', 'failed', 'paused', 'prioritized', 'waiting', 'waiting-children']);
      await stack.startWorker();
      expect((await waitForJob(stack, res.body.id as string)).status).toBe('completed');
      expect(sampleValue(await api(), 'sluice_queue_jobs', { queue: 'ingest', state: 'waiting' })).toBe(0);
    } finally {
      await stack.startWorker();
    }
  });
});
