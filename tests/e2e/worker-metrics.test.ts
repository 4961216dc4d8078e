import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../helpers/net.js';
import { sampleValue, scrape } from '../helpers/prometheus.js';
import { startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset } from '../integration/support.js';

// The worker as `npm run start:worker` runs it serves its metrics on METRICS_PORT.

const root = path.resolve(import.meta.dirname, '../..');

interface WorkerProc {
  proc: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function startWorker(stack: TestStack, metricsPort: number): WorkerProc {
  let output = '';
  const proc = spawn(process.execPath, [path.join(root, 'apps/worker/dist/main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: stack.config.databaseUrl,
      REDIS_URL: stack.config.redisUrl,
      QUEUE_PREFIX: stack.config.queuePrefix,
      STORAGE_DIR: stack.storageDir,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => output, exit };
}

async function started(worker: WorkerProc): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.includes('"message":"worker started"'));
    if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
    if (Date.now() > deadline || worker.proc.exitCode !== null) throw new Error(`worker did not start:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let stack: TestStack;
const workers: WorkerProc[] = [];
beforeAll(async () => {
  stack = await startTestStack({}, { worker: false });
  await createDataset(stack, { name: 'm', key: ['email'], fields: [{ name: 'email', type: 'email', required: true }] });
});
afterAll(async () => {
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exit));
  await stack.close();
});

test('the worker process serves /metrics on METRICS_PORT; the numbers follow its jobs; it closes on SIGTERM', async () => {
  const port = await freePort();
  const worker = startWorker(stack, port);
  workers.push(worker);
  expect(await started(worker)).toEqual(expect.objectContaining({ metricsPort: port }));
  const url = `http://127.0.0.1:${port}/metrics`;

  const res = await upload(stack, 'm.csv', 'email\na@example.com\nnope\nb@example.com\n', { dataset: 'm' });
  expect(res.status).toBe(202);
  expect((await waitForJob(stack, res.body.id as string)).status).toBe('completed');
  const s = await scrape(url);
  expect(sampleValue(s, 'sluice_rows_processed_total', { dataset: 'm', service: 'sluice-worker' })).toBe(3);
  expect(sampleValue(s, 'sluice_rows_rejected_total', { dataset: 'm' })).toBe(1);
  expect(sampleValue(s, 'sluice_rows_upserted_total', { dataset: 'm', result: 'inserted' })).toBe(2);
  expect(sampleValue(s, 'sluice_job_duration_seconds_count', { outcome: 'completed' })).toBe(1);
  expect(sampleValue(s, 'sluice_worker_concurrency')).toBe(2);

  // A second worker on the same host and port still works, without a listener, and says so.
  const second = startWorker(stack, port);
  workers.push(second);
  expect(await started(second)).toEqual(expect.objectContaining({ metricsPort: null }));
  expect(second.output()).toContain('metrics listener failed to start');
  second.proc.kill('SIGTERM');
  const code = await second.exit;
  expect({ code, output: code === 0 ? '' : second.output() }).toEqual({ code: 0, output: '' });

  worker.proc.kill('SIGTERM');
  expect(await worker.exit).toBe(0);
  await expect(fetch(url)).rejects.toThrow();
});
