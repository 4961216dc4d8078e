import { startTestStack, upload, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, request } from './support.js';

const ADMIN_KEY = 'the-admin-key-0123456789-abcdefghijklmn';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('with ADMIN_KEY set', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ ADMIN_KEY }, { worker: false });
    await createDataset(stack, { name: 'q', fields: [{ name: 'email', type: 'email', required: true }] });
  });
  afterAll(async () => stack.close());

  test.each([
    ['no Authorization', {}],
    ['a wrong bearer key', bearer('not-the-admin-key-000000')],
    ['the key with a different case', bearer(ADMIN_KEY.toUpperCase())],
    ['a wrong basic-auth password', basic('admin', 'wrong')],
    ['the key as the basic-auth user name', basic(ADMIN_KEY, '')],
    ['an unknown scheme', { authorization: `Token ${ADMIN_KEY}` }],
  ])('%s → 401 in the one error shape, with a challenge a browser answers', async (_name, headers) => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await request(stack, 'GET', path, { headers });
      expectError(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate')).toContain('Basic realm="sluice-admin"');
    }
  });

  test('the bearer key opens the dashboard page', async () => {
    const res = await request(stack, 'GET', '/admin/queues', { headers: bearer(ADMIN_KEY) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('/admin/queues');
  });

  test('the key as basic-auth password (any user) opens it, static assets too', async () => {
    const res = await request(stack, 'GET', '/admin/queues/', { headers: basic('ops', ADMIN_KEY) });
    expect(res.status).toBe(200);
    const script = /<script defer src="(static\/js\/main\.[^"]+)"/.exec(res.text)?.[1];
    expect(script).toBeDefined();
    const asset = `/admin/queues/${script!}`;
    expect((await request(stack, 'GET', asset, { headers: basic('ops', ADMIN_KEY) })).status).toBe(200);
    expect((await request(stack, 'GET', asset)).status).toBe(401);
  });

  test('its API shows the ingest queue, read-only, with a waiting job counted', async () => {
    const up = await upload(stack, 'a.csv', 'email\na@example.com\n', { dataset: 'q' });
    expect(up.status).toBe(202);
    const res = await request(stack, 'GET', '/admin/queues/api/queues?activeQueue=ingest&status=waiting', { headers: bearer(ADMIN_KEY) });
    expect(res.status).toBe(200);
    const queue = (res.body.queues as Array<Record<string, any>>).find((q) => q.name === 'ingest');
    expect(queue).toEqual(expect.objectContaining({ readOnlyMode: true }));
    expect(queue!.counts.waiting).toBe(1);
    expect(queue!.jobs.map((j: { id: string }) => j.id)).toEqual([up.body.id]);
  });

  test('changes through the dashboard are refused: PostgreSQL, not Redis, owns a job', async () => {
    const res = await request(stack, 'PUT', '/admin/queues/api/queues/ingest/empty', { headers: bearer(ADMIN_KEY) });
    expect(res.status).toBe(405);
    const after = await request(stack, 'GET', '/admin/queues/api/queues?activeQueue=ingest', { headers: bearer(ADMIN_KEY) });
    expect((after.body.queues as Array<Record<string, any>>).find((q) => q.name === 'ingest')!.counts.waiting).toBe(1);
  });

  test('the key opens only the dashboard: other routes are as they were', async () => {
    expect((await request(stack, 'GET', '/health')).status).toBe(200);
    expect((await request(stack, 'GET', '/datasets/q')).status).toBe(200);
  });
});

describe('without ADMIN_KEY', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({}, { worker: false });
  });
  afterAll(async () => stack.close());

  test('the dashboard does not exist: 404, whatever the credentials', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      expectError(await request(stack, 'GET', path), 404, 'not_found');
      expectError(await request(stack, 'GET', path, { headers: bearer(ADMIN_KEY) }), 404, 'not_found');
    }
  });
});
