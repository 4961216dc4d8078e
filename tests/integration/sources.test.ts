import { sql } from 'kysely';
import { startMockApi, type MockApi, type MockReply, type MockRequest } from '../helpers/mock-api.js';
import { getJson, postJson, startTestStack, waitForJob, type JobBody, type TestStack } from '../helpers/stack.js';
import { countRows, createDataset, expectError, recordData, request, until, UUID_RE } from './support.js';

let stack: TestStack;
let api: MockApi | undefined;
let reply: (req: MockRequest, count: number) => MockReply | Promise<MockReply>;

beforeAll(async () => {
  stack = await startTestStack({ PULL_ATTEMPTS: '3', PULL_BACKOFF_MS: '20', PULL_TIMEOUT_MS: '400' });
  await createDataset(stack, {
    name: 'things',
    key: ['id'],
    fields: [
      { name: 'id', type: 'integer', required: true },
      { name: 'name', type: 'string', required: true },
      { name: 'updated_at', type: 'datetime' },
    ],
  });
});
afterAll(() => stack.close());
beforeEach(async () => {
  api = await startMockApi((req, n) => reply(req, n));
  await sql`TRUNCATE records`.execute(stack.db);
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const THINGS = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, name: `thing ${i + 1}` }));
const ids = async () => (await recordData(stack, 'things', 'id')).map((r) => r.id as number).sort((a, b) => a - b);
const all = THINGS.map((t) => t.id);
let sourceCount = 0;

async function createSource(body: Record<string, unknown>): Promise<Record<string, any> & { id: string }> {
  const res = await postJson(stack, '/sources', { name: `s${++sourceCount}`, dataset: 'things', url: `${api!.url}/things`, ...body });
  expect({ status: res.status, body: res.body }).toEqual({
    status: 201,
    body: expect.objectContaining({ id: expect.stringMatching(UUID_RE) }),
  });
  return res.body as Record<string, any> & { id: string };
}

async function run(source: { id: string }): Promise<JobBody> {
  const res = await postJson(stack, `/sources/${source.id}/run`, {});
  expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 202, location: `/jobs/${res.body.id}` });
  expect(res.body).toMatchObject({ kind: 'pull', sourceId: source.id, status: 'queued' });
  return waitForJob(stack, res.body.id as string);
}

describe('each pagination type reads every page, once', () => {
  test('page: ?page=N&per_page=10, items under data.items, a short page is the last', async () => {
    reply = (req) => {
      const p = Number(req.url.searchParams.get('page'));
      return { body: { data: { items: THINGS.slice((p - 1) * 10, p * 10) } } };
    };
    const source = await createSource({ itemsPath: 'data.items', pagination: { type: 'page', sizeParam: 'per_page', size: 10 } });
    const job = await run(source);
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 25, valid: 25, inserted: 25 } });
    expect(api!.requests.map((r) => r.url.search)).toEqual(['?page=1&per_page=10', '?page=2&per_page=10', '?page=3&per_page=10']);
    expect(await ids()).toEqual(all);
  });

  test('offset: ?offset=&limit=, until a page comes back short', async () => {
    reply = (req) => {
      const o = Number(req.url.searchParams.get('offset'));
      return { body: THINGS.slice(o, o + Number(req.url.searchParams.get('limit'))) };
    };
    const job = await run(await createSource({ pagination: { type: 'offset', limit: 10 } }));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 25, inserted: 25 } });
    expect(api!.requests.map((r) => r.url.searchParams.get('offset'))).toEqual(['0', '10', '20']);
    expect(await ids()).toEqual(all);
  });

  test('cursor: the next cursor from the body, sent back as ?cursor=, until it is null', async () => {
    reply = (req) => {
      const at = Number(req.url.searchParams.get('cursor') ?? '0');
      return { body: { results: THINGS.slice(at, at + 10), meta: { next: at + 10 < THINGS.length ? String(at + 10) : null } } };
    };
    const job = await run(await createSource({ itemsPath: 'results', pagination: { type: 'cursor', cursorPath: 'meta.next' } }));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 25, inserted: 25 } });
    expect(api!.requests.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, '10', '20']);
    expect(await ids()).toEqual(all);
  });

  test('linkHeader: follows rel="next" in the Link header (relative links too)', async () => {
    reply = (req) => {
      const p = Number(req.url.searchParams.get('p') ?? '1');
      const links = [`<${api!.url}/things?p=1>; rel="first"`];
      if (p < 3) links.push(`</things?p=${p + 1}>; rel="next"`);
      return { body: THINGS.slice((p - 1) * 10, p * 10), headers: { link: links.join(', ') } };
    };
    const job = await run(await createSource({ pagination: { type: 'linkHeader' } }));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 25, inserted: 25 } });
    expect(api!.requests.map((r) => r.url.search)).toEqual(['', '?p=2', '?p=3']);
    expect(await ids()).toEqual(all);
  });

  test('nextUrl: the next page’s URL from the body, until it is absent', async () => {
    reply = (req) => {
      const p = Number(req.url.searchParams.get('p') ?? '1');
      return { body: { items: THINGS.slice((p - 1) * 10, p * 10), ...(p < 3 ? { next: `${api!.url}/things?p=${p + 1}` } : {}) } };
    };
    const job = await run(await createSource({ itemsPath: 'items', pagination: { type: 'nextUrl', path: 'next' } }));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 25, inserted: 25 } });
    expect(api!.requests).toHaveLength(3);
    expect(await ids()).toEqual(all);
  });

  test('none: one request; items that are not objects or fail validation are the run’s rejected rows', async () => {
    reply = () => ({ body: [{ id: 1, name: 'one' }, 'two', { id: 'x', name: 'three' }] });
    const job = await run(await createSource({}));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 3, valid: 1, invalid: 2, inserted: 1 } });
    const errors = await getJson(stack, `/jobs/${job.id}/errors`);
    expect(errors.body.items.map((e: { row: number }) => e.row)).toEqual([2, 3]);
    expect(errors.body.items[0].errors[0].message).toContain('expected a JSON object');
  });
});

describe('a misbehaving API', () => {
  test('503 then success: the page is retried and the run completes', async () => {
    reply = (_req, n) => (n === 1 ? { status: 503, body: { error: 'busy' } } : { body: THINGS.slice(0, 5) });
    const job = await run(await createSource({}));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 5, inserted: 5 } });
    expect(api!.requests).toHaveLength(2);
  });

  test('429 with Retry-After: the retry waits as long as the server asked', async () => {
    reply = (_req, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: {} } : { body: THINGS.slice(0, 5) });
    const job = await run(await createSource({}));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 5 } });
    expect(api!.requests).toHaveLength(2);
    expect(api!.requests[1]!.at - api!.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  test('5xx on every attempt: the run fails naming the page it reached; earlier pages stay', async () => {
    reply = (req) => {
      const p = Number(req.url.searchParams.get('page'));
      return p === 1 ? { body: THINGS.slice(0, 10) } : { status: 502, body: 'bad gateway' };
    };
    const job = await run(await createSource({ pagination: { type: 'page', size: 10 } }));
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({
      code: 'source_failed',
      message: expect.stringMatching(/^page 2 \(.*\/things\): HTTP 502, after 3 attempts$/),
    });
    expect(api!.requests).toHaveLength(4);
    expect(await ids()).toEqual(all.slice(0, 10));
  });

  test('a 4xx other than 429 fails the run at once', async () => {
    reply = () => ({ status: 404, body: { error: 'no such thing' } });
    const job = await run(await createSource({}));
    expect(job.error).toMatchObject({ code: 'source_failed', message: expect.stringContaining('HTTP 404') });
    expect(api!.requests).toHaveLength(1);
  });

  test('a looping cursor fails the run with "pagination loop"', async () => {
    reply = (req) => {
      const c = req.url.searchParams.get('cursor');
      return { body: { items: [{ id: c === null ? 1 : Number(c) + 1, name: 'x' }], next: c === null ? 'a' : c === 'a' ? 'b' : 'a' } };
    };
    const job = await run(await createSource({ itemsPath: 'items', pagination: { type: 'cursor', cursorPath: 'next' } }));
    expect(job.status).toBe('failed');
    expect(job.error?.message).toMatch(/^pagination loop: page 3 returned the cursor "a" again/);
    expect(api!.requests).toHaveLength(3);
  });

  test('a server that ignores the page parameter is a loop, not an endless run', async () => {
    reply = () => ({ body: THINGS.slice(0, 10) });
    const job = await run(await createSource({ pagination: { type: 'page', size: 10 } }));
    expect(job.error?.message).toMatch(/^pagination loop: page 2 is the same as the page before it/);
  });

  test('a page that times out is retried; one that never answers fails the run', async () => {
    reply = (_req, n) => (n === 1 ? { delayMs: 2_000, body: [] } : { body: THINGS.slice(0, 3) });
    const retried = await run(await createSource({}));
    expect(retried).toMatchObject({ status: 'completed', counts: { rows: 3 } });
    expect(api!.requests).toHaveLength(2);

    reply = () => ({ delayMs: 2_000, body: [] });
    const failed = await run(await createSource({}));
    expect(failed.error).toMatchObject({
      code: 'source_failed',
      message: expect.stringContaining('no answer within 400 ms, after 3 attempts'),
    });
  });

  test('maxPages bounds a run over an endless API', async () => {
    reply = (req) => {
      const p = Number(req.url.searchParams.get('page'));
      return { body: [{ id: p, name: `page ${p}` }] };
    };
    const job = await run(await createSource({ pagination: { type: 'page' }, maxPages: 4 }));
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 4 } });
    expect(api!.requests).toHaveLength(4);
  });
});

test('incremental: the second run sends the highest updated_at seen and gets only what changed', async () => {
  let data = [
    { id: 1, name: 'a', updated_at: '2024-01-01T00:00:00Z' },
    { id: 2, name: 'b', updated_at: '2024-01-03T00:00:00Z' },
    { id: 3, name: 'c', updated_at: '2024-01-02T00:00:00Z' },
  ];
  reply = (req) => {
    const since = req.url.searchParams.get('updated_since');
    return { body: data.filter((d) => since === null || d.updated_at > since) };
  };
  const source = await createSource({ incremental: { field: 'updated_at', param: 'updated_since' } });
  expect(await run(source)).toMatchObject({ status: 'completed', counts: { rows: 3, inserted: 3 } });
  const after = await getJson(stack, `/sources/${source.id}`);
  expect(after.body).toMatchObject({ state: { cursor: '2024-01-03T00:00:00Z' }, lastSuccessAt: expect.any(String) });

  data = [...data, { id: 4, name: 'd', updated_at: '2024-01-05T00:00:00Z' }];
  data[0] = { id: 1, name: 'a2', updated_at: '2024-01-04T00:00:00Z' };
  expect(await run(source)).toMatchObject({ status: 'completed', counts: { rows: 2, inserted: 1, updated: 1 } });
  expect(api!.requests.map((r) => r.url.searchParams.get('updated_since'))).toEqual([null, '2024-01-03T00:00:00Z']);
  expect((await getJson(stack, `/sources/${source.id}`)).body.state).toEqual({ cursor: '2024-01-05T00:00:00Z' });

  // A run that fails leaves the state where it was: nothing is skipped next time.
  reply = () => ({ status: 500, body: {} });
  expect((await run(source)).status).toBe('failed');
  expect((await getJson(stack, `/sources/${source.id}`)).body.state).toEqual({ cursor: '2024-01-05T00:00:00Z' });

  const runs = await getJson(stack, `/sources/${source.id}/runs`);
  expect(runs.body.items.map((j: JobBody) => j.status)).toEqual(['failed', 'completed', 'completed']);
});

describe('sources API', () => {
  test('secret headers are sent to the API, stored, and never returned', async () => {
    reply = () => ({ body: [] });
    const source = await createSource({
      headers: { Authorization: 'Bearer top-secret', 'X-Token': { value: 'hush', secret: true }, Accept: 'application/json' },
    });
    expect(source.headers).toEqual({ Authorization: { secret: true }, 'X-Token': { secret: true }, Accept: 'application/json' });
    await run(source);
    expect(api!.requests[0]!.headers).toMatchObject({ authorization: 'Bearer top-secret', 'x-token': 'hush' });
    for (const res of [await getJson(stack, `/sources/${source.id}`), await getJson(stack, '/sources?limit=1000')]) {
      expect(JSON.stringify(res.body)).not.toMatch(/top-secret|hush/);
    }
    // A PATCH that sends the masked value back keeps the stored one.
    const patched = await request(stack, 'PATCH', `/sources/${source.id}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ headers: { Authorization: { secret: true }, 'X-Token': { secret: true } } }),
    });
    expect(patched.status).toBe(200);
    expect(patched.body.headers).toEqual({ Authorization: { secret: true }, 'X-Token': { secret: true } });
    await run(source);
    expect(api!.requests[1]!.headers).toMatchObject({ authorization: 'Bearer top-secret', 'x-token': 'hush' });
    expect(api!.requests[1]!.headers.accept).toBe('application/json');
  });

  test('GET, list, PATCH and DELETE; a deleted source answers 404 and its runs stay as jobs', async () => {
    reply = () => ({ body: [{ id: 1, name: 'one' }] });
    const source = await createSource({ pagination: { type: 'none' } });
    const job = await run(source);
    expect((await getJson(stack, `/sources/${source.id}`)).body).toMatchObject({
      name: source.name,
      dataset: 'things',
      url: `${api!.url}/things`,
      method: 'GET',
      lastRunAt: expect.any(String),
    });
    const renamed = await request(stack, 'PATCH', `/sources/${source.id}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${source.name}-renamed` }),
    });
    expect(renamed.body.name).toBe(`${source.name}-renamed`);
    const listed = await getJson(stack, '/sources?limit=1000');
    expect(listed.body.items.map((s: { id: string }) => s.id)).toContain(source.id);
    expect((await request(stack, 'DELETE', `/sources/${source.id}`)).status).toBe(204);
    expectError(await getJson(stack, `/sources/${source.id}`), 404, 'not_found');
    expectError(await postJson(stack, `/sources/${source.id}/run`, {}), 404, 'not_found');
    expect((await getJson(stack, `/jobs/${job.id}`)).body).toMatchObject({ status: 'completed', sourceId: null });
  });

  test('bad definitions are refused and nothing is kept', async () => {
    const before = await countRows(stack, 'datasets');
    const sources = async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM sources`.execute(stack.db)).rows[0]!.n;
    const n = await sources();
    expectError(await postJson(stack, '/sources', { name: 'x', dataset: 'things', url: 'ftp://example.com' }), 400, 'validation_failed');
    expectError(
      await postJson(stack, '/sources', { name: 'x', dataset: 'things', url: 'http://example.com', pagination: { type: 'pages' } }),
      400,
      'validation_failed',
    );
    expectError(
      await postJson(stack, '/sources', { name: 'x', dataset: 'things', url: 'http://example.com', schedule: { every: '1s' } }),
      400,
      'validation_failed',
    );
    expectError(
      await postJson(stack, '/sources', { name: 'x', dataset: 'things', url: 'http://example.com', schedule: { every: 'often' } }),
      400,
      'validation_failed',
    );
    expectError(
      await postJson(stack, '/sources', {
        name: 'x',
        dataset: 'things',
        url: 'http://example.com',
        schedule: { cron: 'every day at noon' },
      }),
      400,
      'validation_failed',
    );
    expectError(await postJson(stack, '/sources', { name: 'x', dataset: 'nope', url: 'http://example.com' }), 404, 'not_found');
    expect(await sources()).toBe(n);
    expect(await countRows(stack, 'datasets')).toBe(before);
    const source = await createSource({});
    expectError(await postJson(stack, '/sources', { name: source.name, dataset: 'things', url: 'http://example.com' }), 409, 'conflict');
  });

  test('a run while one is open answers 409 naming it', async () => {
    reply = () => ({ delayMs: 300, body: [] });
    const source = await createSource({});
    const first = await postJson(stack, `/sources/${source.id}/run`, {});
    const second = await postJson(stack, `/sources/${source.id}/run`, {});
    expect(expectError(second, 409, 'conflict').details).toEqual({ jobId: first.body.id });
    await waitForJob(stack, first.body.id as string);
  });
});

test('a schedule is one BullMQ job scheduler per source: it runs the source, survives PATCHes, and goes with the source', async () => {
  reply = () => ({ body: [{ id: 99, name: 'scheduled' }] });
  const source = await createSource({ schedule: { every: '1h' } });
  expect(source.nextRunAt).toEqual(expect.any(String));
  // A scheduler with `every` fires at once, then every hour.
  await until(
    'the scheduled run completes',
    async () => {
      const runs = await getJson(stack, `/sources/${source.id}/runs`);
      return runs.body.items.length === 1 && runs.body.items[0].status === 'completed';
    },
    15_000,
  );
  for (let i = 0; i < 2; i++) {
    const res = await request(stack, 'PATCH', `/sources/${source.id}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ schedule: { cron: '0 3 * * *' } }),
    });
    expect(res.status).toBe(200);
  }
  const schedulers = await stack.deps.sourceQueue.getJobSchedulers();
  expect(schedulers.filter((s) => s.key === `source:${source.id}`)).toEqual([expect.objectContaining({ pattern: '0 3 * * *' })]);
  expect((await request(stack, 'DELETE', `/sources/${source.id}`)).status).toBe(204);
  expect((await stack.deps.sourceQueue.getJobSchedulers()).filter((s) => s.key === `source:${source.id}`)).toEqual([]);
}, 30_000);
