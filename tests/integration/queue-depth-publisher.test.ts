import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { publishQueueDepth, QUEUE_DEPTH_METRICS, startQueueDepthPublisher } from '@sluice/ingest';
import { createIngestQueue, INGEST_QUEUE, type IngestPayload } from '@sluice/queue';
import { Worker, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { testQueuePrefix } from '../helpers/database.js';
import { figures, startFakeCloudWatch, type FakeCloudWatch } from '../helpers/fake-cloudwatch.js';

// The worker publishes the ingest queue's depth to CloudWatch for the ECS scaling policy.
// Here against a real BullMQ queue in Redis and a fake CloudWatch endpoint on loopback.

let redis: Redis;
let queue: Queue<IngestPayload>;
let claimer: Worker<IngestPayload>;
let cloudwatch: FakeCloudWatch;
let prefix: string;

const client = () =>
  new CloudWatchClient({
    endpoint: cloudwatch.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
const payload = () => ({ jobId: randomUUID(), tenantId: randomUUID() });

beforeAll(async () => {
  redis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: null });
  prefix = testQueuePrefix();
  queue = createIngestQueue(redis, prefix);
  cloudwatch = await startFakeCloudWatch();
  // A known depth: 3 plain jobs and 1 with a priority, 2 delayed, then 1 claimed by a worker.
  for (let i = 0; i < 3; i++) await queue.add('ingest', payload());
  await queue.add('ingest', payload(), { priority: 1 });
  for (let i = 0; i < 2; i++) await queue.add('ingest', payload(), { delay: 3_600_000 });
  claimer = new Worker<IngestPayload>(INGEST_QUEUE, null, { connection: redis, prefix, autorun: false });
  expect(await claimer.getNextJob('test-token')).toBeDefined();
});

afterAll(async () => {
  await claimer.close();
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
  await cloudwatch.close();
});

test('one PutMetricData carries the waiting, active and delayed counts, dimensioned by the queue', async () => {
  const cw = client();
  const at = new Date('2026-01-02T03:04:05.000Z');
  try {
    const sent = cloudwatch.nextCall();
    expect(await publishQueueDepth(queue, cw, 'Sluice/test', at)).toStrictEqual({ waiting: 3, active: 1, delayed: 2 });
    const call = await sent;
    expect(call.target).toBe('GraniteServiceVersion20100801.PutMetricData');
    expect(call.body.Namespace).toBe('Sluice/test');
    const dimensions = { Queue: `${prefix}:${INGEST_QUEUE}` };
    expect(figures(call)).toStrictEqual({
      [QUEUE_DEPTH_METRICS.waiting]: { value: 3, unit: 'Count', dimensions },
      [QUEUE_DEPTH_METRICS.active]: { value: 1, unit: 'Count', dimensions },
      [QUEUE_DEPTH_METRICS.delayed]: { value: 2, unit: 'Count', dimensions },
    });
    expect(call.body.MetricData.map((m) => m.Timestamp)).toStrictEqual([at.getTime() / 1000, at.getTime() / 1000, at.getTime() / 1000]);
  } finally {
    cw.destroy();
  }
});

test('the publisher publishes at once and every interval; an outage is logged once and retried', async () => {
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message), info: (message: string) => infos.push(message) };
  const before = cloudwatch.received.length;
  cloudwatch.failNext(2);
  const publisher = startQueueDepthPublisher({ queue, cloudwatch: client(), logger }, { namespace: 'Sluice/loop', intervalMs: 100 });
  try {
    // Two ticks fail (one warning), the third gets through, the fourth follows on its own.
    const first = await cloudwatch.nextCall(before);
    const second = await cloudwatch.nextCall(before + 1);
    expect([first.body.Namespace, second.body.Namespace]).toStrictEqual(['Sluice/loop', 'Sluice/loop']);
    expect(figures(second)[QUEUE_DEPTH_METRICS.waiting]?.value).toBe(3);
    expect(warnings).toStrictEqual(['could not publish the queue depth; retrying every interval']);
    expect(infos).toStrictEqual(['queue depth published again']);
  } finally {
    publisher.stop();
  }
});
