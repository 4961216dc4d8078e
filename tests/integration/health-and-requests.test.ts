import { sql } from 'kysely';
import { getJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, request, UUID_RE } from './support.js';

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

  test('GET /ready → 200 with PostgreSQL and Redis checked', async () => {
    const res = await getJson(stack, '/ready');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } } });
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
