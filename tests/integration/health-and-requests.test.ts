import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, request, until, UUID_RE } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await createDataset(stack, { name: 'req', key: ['email'], fields: [{ name: 'email', type: 'email', required: true }] });
});
afterAll(async () => stack.close());

async function correlationIdInTable(jobId: string): Promise<string | null> {
  const { rows } = await sql<{ correlation_id: string | null }>`SELECT correlation_id FROM ingestion_jobs WHERE id = ${jobId}`.execute(stack.db);
  expect(rows).toHaveLength(1);
  return rows[0]!.correlation_id;
}

describe('health', () => {
  test('GET /health → 200 while the process runs', async () => {
    const res = await getJson(stack, '/health');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('GET /ready → 200 with PostgreSQL, Redis and the storage directory checked', async () => {
    const res = await getJson(stack, '/ready');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok', storage: 'ok' } },
    });
  });

  test('a STORAGE_DIR that is not there is made by the check, as the first upload would make it', async () => {
    await rm(stack.storageDir, { recursive: true, force: true });
    const res = await getJson(stack, '/ready');
    expect({ status: res.status, storage: res.body.checks?.storage }).toEqual({ status: 200, storage: 'ok' });
    expect((await stat(stack.storageDir)).isDirectory()).toBe(true);
  });

  test('GET /ready?skip=storage leaves storage out; another skip is a 400', async () => {
    const res = await getJson(stack, '/ready?skip=storage');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok', storage: 'skipped' } },
    });
    expectError(await getJson(stack, '/ready?skip=postgres'), 400, 'validation_failed');
  });
});

/** `GET /ready`'s 503: the one error shape, every check named. */
function expectNotReady(res: { status: number; body: unknown }, checks: Record<string, string>) {
  const error = expectError(res, 503, 'unavailable');
  expect(error.details).toEqual(checks);
}

describe('GET /ready with storage that cannot take an upload', () => {
  test('disk: a STORAGE_DIR under a regular file → 503 naming storage, and an upload is indeed refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sluice-ready-'));
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const bad = await startTestStack({ STORAGE_DIR: path.join(file, 'uploads') }, { worker: false });
    try {
      expectNotReady(await getJson(bad, '/ready'), { postgres: 'ok', redis: 'ok', storage: 'down' });
      expect((await getJson(bad, '/ready?skip=storage')).status).toBe(200);
      await createDataset(bad, { name: 'req', key: ['email'], fields: [{ name: 'email', type: 'email', required: true }] });
      const res = await upload(bad, 'a.csv', 'email\na@example.com\n', { dataset: 'req' });
      expectError(res, 503, 'unavailable'); // as /ready foretold
    } finally {
      await bad.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('S3 (an s3rver of the stack’s own)', () => {
    let s3stack: TestStack;
    beforeAll(async () => {
      s3stack = await startTestStack({}, { worker: false, storage: 's3' });
    });
    afterAll(async () => s3stack?.close());

    test('the bucket answers → 200 with storage ok', async () => {
      const res = await getJson(s3stack, '/ready');
      expect({ status: res.status, body: res.body }).toEqual({
        status: 200,
        body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok', storage: 'ok' } },
      });
    });

    test('the bucket does not exist → 503 naming storage; ready again once it is back', async () => {
      const { client, bucket } = s3stack.s3!;
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      try {
        expectNotReady(await getJson(s3stack, '/ready'), { postgres: 'ok', redis: 'ok', storage: 'down' });
        // What the load balancer asks: the task itself is fine.
        expect((await getJson(s3stack, '/ready?skip=storage')).body).toEqual({
          status: 'ready',
          checks: { postgres: 'ok', redis: 'ok', storage: 'skipped' },
        });
      } finally {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      }
      const res = await getJson(s3stack, '/ready');
      expect({ status: res.status, storage: res.body.checks?.storage }).toEqual({ status: 200, storage: 'ok' });
    });
  });

  test('S3 that accepts connections and never answers → 503 naming storage after the 2 s timeout, the request abandoned', async () => {
    // s3rver's fixed credentials, so the SDK goes straight to the (silent) endpoint.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const sockets = new Set<Socket>();
    let accepted = 0;
    const silent = createServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.resume(); // reads (and drops) the request, so the client's close is seen
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const hung = await startTestStack(
      { STORAGE: 's3', S3_BUCKET: 'sluice-test', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true' },
      { worker: false },
    );
    try {
      const started = Date.now();
      expectNotReady(await getJson(hung, '/ready'), { postgres: 'ok', redis: 'ok', storage: 'down' });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1_900);
      expect(elapsed).toBeLessThan(4_000);
      expect(accepted).toBeGreaterThanOrEqual(1);
      // The HeadBucket was aborted, not left waiting on a socket.
      await until('the HeadBucket connection to be closed', async () => sockets.size === 0);
    } finally {
      await hung.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('X-Request-Id', () => {
  test('a given id is echoed and stored as the job’s correlation id', async () => {
    const id = 'client-req.2024:03-07_0001';
    const res = await upload(stack, 'a.csv', 'email\na@example.com\n', { dataset: 'req' }, { headers: { 'X-Request-Id': id } });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(id);
    expect(res.body.correlationId).toBe(id);
    const job = await waitForJob(stack, res.body.id);
    expect(job.correlationId).toBe(id);
    expect(await correlationIdInTable(res.body.id)).toBe(id);
  });

  test('without one, a generated id is echoed and is the job’s correlation id', async () => {
    const res = await upload(stack, 'b.csv', 'email\nb@example.com\n', { dataset: 'req' });
    expect(res.status).toBe(202);
    const generated = res.headers.get('x-request-id');
    expect(generated).toMatch(UUID_RE);
    expect(res.body.correlationId).toBe(generated);
    expect(await correlationIdInTable(res.body.id)).toBe(generated);
    await waitForJob(stack, res.body.id);

    const again = await upload(stack, 'c.csv', 'email\nc@example.com\n', { dataset: 'req' });
    expect(again.headers.get('x-request-id')).toMatch(UUID_RE);
    expect(again.headers.get('x-request-id')).not.toBe(generated);
    await waitForJob(stack, again.body.id);
  });

  test('an id that is not sane (spaces, too long) is replaced by a generated one', async () => {
    for (const bad of ['has spaces in it', 'x'.repeat(129)]) {
      const res = await getJson(stack, '/health', { 'X-Request-Id': bad });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(UUID_RE);
    }
  });

  test('every response carries it, errors too', async () => {
    expect((await getJson(stack, '/health', { 'X-Request-Id': 'h-1' })).headers.get('x-request-id')).toBe('h-1');
    const notFound = await getJson(stack, '/datasets/nope', { 'X-Request-Id': 'h-2' });
    expectError(notFound, 404, 'not_found');
    expect(notFound.headers.get('x-request-id')).toBe('h-2');
    const badUpload = await request(stack, 'POST', '/upload', { headers: { 'content-type': 'application/json', 'X-Request-Id': 'h-3' }, body: '{}' });
    expectError(badUpload, 415, 'unsupported_media_type');
    expect(badUpload.headers.get('x-request-id')).toBe('h-3');
  });
});

describe('unknown routes', () => {
  test.each([
    ['GET', '/nope'],
    ['GET', '/jobs/abc/nothing'],
    ['DELETE', '/datasets/req'],
    ['POST', '/records'],
  ])('%s %s → 404 not_found in the one error shape', async (method, url) => {
    const res = await request(stack, method, `${url}?x=1`);
    const error = expectError(res, 404, 'not_found');
    expect(error.message).toBe(`route ${method} ${url} not found`);
  });
});
