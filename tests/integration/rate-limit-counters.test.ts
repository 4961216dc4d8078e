// The rate limit's shared counters against a real Redis: two instances stand for two API
// processes, each counting locally and meeting the other's counts in Redis.
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { SharedCounters } from '../../apps/api/src/rate-limit-store.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: Array<{ counters: SharedCounters; redis: Redis }> = [];

/** Counters as an API process has them; `url` may name a Redis that is not there. */
function apiProcess(prefix: string, url = REDIS_URL, errors: Error[] = []) {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const counters = new SharedCounters(redis, { prefix, syncMs: 10_000, onError: (error) => errors.push(error) });
  opened.push({ counters, redis });
  return counters;
}

afterAll(async () => {
  for (const { counters, redis } of opened) {
    counters.close();
    redis.disconnect();
  }
});

const WINDOW = 60_000;

test('one process alone counts exactly, with the time left in the window', () => {
  const a = apiProcess(`t:${randomUUID()}:`);
  const counts = [1, 2, 3].map(() => a.hit('key', WINDOW));
  expect(counts.map((c) => c.current)).toEqual([1, 2, 3]);
  for (const c of counts) expect(c.ttl).toBeGreaterThan(0);
  for (const c of counts) expect(c.ttl).toBeLessThanOrEqual(WINDOW);
  expect(a.hit('another key', WINDOW).current).toBe(1);
});

test('two processes learn each other’s counts when they sync, and the total is in Redis', async () => {
  const prefix = `t:${randomUUID()}:`;
  const a = apiProcess(prefix);
  const b = apiProcess(prefix);
  await new Promise((resolve) => setTimeout(resolve, 100)); // both connected
  for (let i = 0; i < 5; i++) a.hit('key', WINDOW);
  expect(b.hit('key', WINDOW).current).toBe(1); // b has not heard of a yet
  await a.sync();
  await b.sync();
  expect(b.hit('key', WINDOW).current).toBe(7); // a's 5, b's 1, and this one
  await b.sync();
  // a hears of b's when it next sends its own counts: a request it admits meanwhile is the
  // most a process can be behind by (syncMs of its traffic).
  expect(a.hit('key', WINDOW).current).toBe(6);
  await a.sync();
  expect(a.hit('key', WINDOW).current).toBe(9);

  const probe = new Redis(REDIS_URL);
  try {
    const keys = await probe.keys(`${prefix}key:*`);
    expect(keys).toHaveLength(1);
    expect(Number(await probe.get(keys[0]!))).toBe(8);
    const ttl = await probe.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * WINDOW);
  } finally {
    probe.disconnect();
  }
});

test('a new window starts from zero', async () => {
  const a = apiProcess(`t:${randomUUID()}:`);
  const windowMs = 200;
  // Start just after a window begins, so three hits fall into it.
  await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 5));
  expect([1, 2, 3].map(() => a.hit('key', windowMs).current)).toEqual([1, 2, 3]);
  await a.sync();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  expect(a.hit('key', windowMs).current).toBe(1);
});

test('without Redis a process keeps counting alone, and reports the failure once', async () => {
  const errors: Error[] = [];
  const a = apiProcess(`t:${randomUUID()}:`, 'redis://127.0.0.1:1', errors);
  for (let i = 0; i < 3; i++) a.hit('key', WINDOW);
  await a.sync();
  expect(a.hit('key', WINDOW).current).toBe(4);
  await a.sync();
  expect(errors).toHaveLength(1);
  expect(a.hit('key', WINDOW).current).toBe(5);
});
