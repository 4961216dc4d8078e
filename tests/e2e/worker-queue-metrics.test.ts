import { createIngestQueue, INGEST_QUEUE } from '@sluice/queue';
import { QUEUE_DEPTH_METRICS } from '@sluice/ingest';
import { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, testQueuePrefix } from '../helpers/database.js';
import { figures, startFakeCloudWatch } from '../helpers/fake-cloudwatch.js';

// The worker process as deployed on ECS: given QUEUE_METRICS_NAMESPACE it publishes the ingest
// queue's depth to CloudWatch (here a fake endpoint on loopback) for the scaling policy.

const root = path.resolve(import.meta.dirname, '../..');

function exitOf(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

test('the worker publishes the queue depth it finds to CloudWatch, and stops cleanly on SIGTERM', async () => {
  const database = await createTestDatabase();
  const cloudwatch = await startFakeCloudWatch();
  const storageDir = await mkdtemp(path.join(tmpdir(), 'sluice-test-'));
  const prefix = testQueuePrefix();
  const redis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: null });
  const queue = createIngestQueue(redis, prefix);
  try {
    // Three jobs waiting out a delay: the worker will not take them in this test's lifetime.
    for (let i = 0; i < 3; i++) await queue.add('ingest', { jobId: randomUUID(), tenantId: randomUUID() }, { delay: 3_600_000 });

    let output = '';
    const worker = spawn(process.execPath, [path.join(root, 'apps/worker/dist/main.js')], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        REDIS_URL: process.env.TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        STORAGE_DIR: storageDir,
        LOG_LEVEL: 'info',
        QUEUE_METRICS_NAMESPACE: 'Sluice/e2e',
        QUEUE_METRICS_ENDPOINT: cloudwatch.endpoint,
        QUEUE_METRICS_INTERVAL_MS: '1000',
        // What ECS gives a task: a region, and credentials (here dummies the fake ignores).
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    worker.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = exitOf(worker);

    const call = await Promise.race([
      cloudwatch.nextCall(0),
      exited.then((code) => {
        throw new Error(`the worker exited (${code}) before publishing:\n${output}`);
      }),
    ]);
    expect(call.body.Namespace).toBe('Sluice/e2e');
    const dimensions = { Queue: `${prefix}:${INGEST_QUEUE}` };
    expect(figures(call)).toStrictEqual({
      [QUEUE_DEPTH_METRICS.waiting]: { value: 0, unit: 'Count', dimensions },
      [QUEUE_DEPTH_METRICS.active]: { value: 0, unit: 'Count', dimensions },
      [QUEUE_DEPTH_METRICS.delayed]: { value: 3, unit: 'Count', dimensions },
    });
    // It goes on publishing every interval.
    expect(figures(await cloudwatch.nextCall(1))[QUEUE_DEPTH_METRICS.delayed]?.value).toBe(3);

    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"queueMetrics":"Sluice/e2e"');
    expect(output).toContain('worker stopped');
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await cloudwatch.close();
    await rm(storageDir, { recursive: true, force: true });
    await database.drop();
  }
});
