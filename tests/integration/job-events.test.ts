import { sampleValue, scrape } from '../helpers/prometheus.js';
import { openEventStream, type SseStream } from '../helpers/sse.js';
import { getJson, postJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, until } from './support.js';

const DATASET = {
  name: 'ev',
  key: ['email'],
  fields: [
    { name: 'email', type: 'email', required: true },
    { name: 'n', type: 'integer' },
  ],
};
const csv = (rows: number) => `email,n\n${Array.from({ length: rows }, (_, i) => `u${i}@example.com,${i}`).join('\n')}\n`;

async function queuedJob(stack: TestStack, rows = 3): Promise<string> {
  const res = await upload(stack, 'ev.csv', csv(rows), { dataset: 'ev' });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

const events = (stack: TestStack, id: string, headers: Record<string, string> = {}) =>
  openEventStream(`${stack.baseUrl}/jobs/${id}/events`, { authorization: `Bearer ${stack.apiKey}`, ...headers });
const openStreams = async (stack: TestStack) => sampleValue(await scrape(`${stack.baseUrl}/metrics`), 'sluice_event_streams_open');

// A minute between heartbeats: whatever arrives sooner was woken by the job's own events.
describe('GET /jobs/:id/events', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ EVENTS_HEARTBEAT_MS: '60000', BATCH_ROWS: '25' }, { worker: false });
    await createDataset(stack, DATASET);
  });
  afterAll(async () => stack.close());

  test('an unknown job → 404 in the one error shape, before any stream', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-job']) {
      const res = await events(stack, id);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expectError({ status: res.status, body: JSON.parse(res.body) }, 404, 'not_found');
    }
  });

  test('a finished job: its final state as `end` at once, then the stream closes', async () => {
    await stack.startWorker();
    const id = await queuedJob(stack);
    const done = await waitForJob(stack, id);
    await stack.stopWorker();
    const stream = await events(stack, id);
    expect(stream.status).toBe(200);
    expect(await stream.next()).toEqual({ kind: 'retry', ms: 2000 });
    const end = await stream.nextEvent();
    expect(end).toEqual({ kind: 'event', event: 'end', id: expect.any(String), data: JSON.stringify(done) });
    expect(await stream.next()).toBeNull();
  });

  test('streams a real job’s progress as it runs, ends with its final state, and closes', async () => {
    const id = await queuedJob(stack, 300);
    const stream = await events(stack, id);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(stream.headers.get('x-request-id')).toBeTruthy();

    const first = await stream.nextEvent();
    expect(first).toEqual(expect.objectContaining({ event: 'progress' }));
    expect(JSON.parse(first!.data)).toEqual((await getJson(stack, `/jobs/${id}`)).body);
    expect(JSON.parse(first!.data).status).toBe('queued');

    await stack.startWorker();
    const seen = [first!];
    for (;;) {
      const event = await stream.nextEvent(20_000);
      expect(event).not.toBeNull();
      seen.push(event!);
      if (event!.event === 'end') break;
      expect(event!.event).toBe('progress');
    }
    await stack.stopWorker();
    const views = seen.map((e) => JSON.parse(e.data) as { status: string; progress: number; counts: { rows: number } });
    const final = views.at(-1)!;
    expect(final).toEqual((await getJson(stack, `/jobs/${id}`)).body);
    expect(final).toEqual(expect.objectContaining({ status: 'completed', progress: 1 }));
    expect(final.counts.rows).toBe(300);
    // Something between queued and the end was seen, and nothing went backwards.
    expect(views.length).toBeGreaterThanOrEqual(3);
    expect(views.slice(1, -1).every((v) => v.status === 'processing')).toBe(true);
    for (let i = 1; i < views.length; i++) {
      expect(views[i]!.counts.rows).toBeGreaterThanOrEqual(views[i - 1]!.counts.rows);
      expect(views[i]!.progress).toBeGreaterThanOrEqual(views[i - 1]!.progress);
    }
    const ids = seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await stream.next()).toBeNull();
  });

  test('several clients watching one job each get its end; one that leaves early does not stop the others', async () => {
    const id = await queuedJob(stack, 100);
    const streams = await Promise.all([0, 1, 2].map(() => events(stack, id)));
    for (const stream of streams) expect((await stream.nextEvent())?.event).toBe('progress');
    streams[0]!.abort();
    await stack.startWorker();
    try {
      const ends = await Promise.all(
        streams.slice(1).map(async (stream) => {
          for (;;) {
            const event = await stream.nextEvent(20_000);
            expect(event).not.toBeNull();
            if (event!.event === 'end') return JSON.parse(event!.data) as Record<string, unknown>;
          }
        }),
      );
      const final = (await getJson(stack, `/jobs/${id}`)).body;
      expect(ends).toEqual([final, final]);
      expect(final.status).toBe('completed');
    } finally {
      await stack.stopWorker();
    }
  });

  test('Last-Event-ID of the state still current is not sent again; a cancel then ends the stream', async () => {
    const id = await queuedJob(stack);
    const first = await events(stack, id);
    const seen = await first.nextEvent();
    expect(seen).toEqual(expect.objectContaining({ event: 'progress' }));
    first.abort();

    const resumed = await events(stack, id, { 'Last-Event-ID': seen!.id! });
    const cancelled = await postJson(stack, `/jobs/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const next = await resumed.nextEvent(10_000);
    expect(next).toEqual(expect.objectContaining({ event: 'end' }));
    expect(JSON.parse(next!.data)).toEqual(cancelled.body);
    expect(await resumed.next()).toBeNull();
  });

  test('a Last-Event-ID of an older state gets the current one', async () => {
    const id = await queuedJob(stack);
    const stream = await events(stack, id, { 'Last-Event-ID': 'an-older-state' });
    const event = await stream.nextEvent();
    expect(event).toEqual(expect.objectContaining({ event: 'progress' }));
    expect(JSON.parse(event!.data).id).toBe(id);
    stream.abort();
    await until('the stream is let go', async () => (await openStreams(stack)) === 0);
  });

  test('a client that goes away ends the stream’s work', async () => {
    const id = await queuedJob(stack);
    const before = await openStreams(stack);
    const streams: SseStream[] = [];
    for (let i = 0; i < 3; i++) {
      const stream = await events(stack, id);
      expect((await stream.nextEvent())?.event).toBe('progress');
      streams.push(stream);
    }
    expect(await openStreams(stack)).toBe(before + 3);
    for (const stream of streams) stream.abort();
    await until('the server lets the streams go', async () => (await openStreams(stack)) === before);
  });
});

describe('heartbeats', () => {
  let stack: TestStack;
  let open: SseStream | undefined;
  beforeAll(async () => {
    stack = await startTestStack({ EVENTS_HEARTBEAT_MS: '100' }, { worker: false });
    await createDataset(stack, DATASET);
  });
  afterAll(async () => {
    // A stream still open when the server stops is ended, and does not hold the stop up.
    await stack.close();
    if (open !== undefined) expect(await open.next(5_000)).toBeNull();
  });

  test('an idle stream gets comment lines, and no repeat of a state that did not change', async () => {
    const id = await queuedJob(stack);
    open = await events(stack, id);
    expect((await open.nextEvent())?.event).toBe('progress');
    const items = [await open.next(), await open.next(), await open.next()];
    expect(items).toEqual([
      { kind: 'comment', text: 'heartbeat' },
      { kind: 'comment', text: 'heartbeat' },
      { kind: 'comment', text: 'heartbeat' },
    ]);
  });
});
