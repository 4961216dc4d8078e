import { sql } from 'kysely';
import { MAX_PUSH_SEGMENTS } from '@sluice/db';
import { CUSTOMERS, startTestStack, waitForJob, type TestStack } from '../helpers/stack.js';
import { countRows, createDataset, expectError, recordData, request, until, UUID_RE, validationErrorRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ PUSH_MAX_BYTES: '4096', PUSH_LINGER_MS: '30' });
  await createDataset(stack, CUSTOMERS);
  await createDataset(stack, {
    name: 'events',
    fields: [
      { name: 'line', type: 'string', required: true, aliases: ['message'] },
      { name: 'received_at', type: 'datetime', required: true },
    ],
  });
});
afterAll(() => stack.close());

const push = (dataset: string, contentType: string, body: string, headers: Record<string, string> = {}) =>
  request(stack, 'POST', `/ingest?dataset=${dataset}`, { headers: { 'content-type': contentType, ...headers }, body });

describe('POST /ingest', () => {
  test('one JSON object: 202 with its job, which lands the record', async () => {
    const res = await push('customers', 'application/json', JSON.stringify({ email: 'One@Example.com', name: 'One' }));
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/jobs/${res.body.id}`);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(UUID_RE),
      kind: 'push',
      dataset: 'customers',
      push: { records: 1, firstRow: 1, lastRow: 1 },
    });
    const job = await waitForJob(stack, res.body.id);
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 1, valid: 1, invalid: 0, inserted: 1 } });
    expect(await recordData(stack, 'customers')).toEqual(expect.arrayContaining([{ email: 'one@example.com', name: 'One' }]));
  });

  test('a JSON array: invalid records are in the job’s errors with their row', async () => {
    const body = [{ email: 'a1@example.com' }, { email: 'not-an-email' }, 7, { email: 'a2@example.com', amount: -1 }];
    const res = await push('customers', 'application/json', JSON.stringify(body));
    expect(res.status).toBe(202);
    expect(res.body.push).toEqual({ records: 4, firstRow: expect.any(Number), lastRow: expect.any(Number) });
    const job = await waitForJob(stack, res.body.id);
    expect(job.counts).toMatchObject({ valid: 1, invalid: 3 });
    const errors = await validationErrorRows(stack, res.body.id);
    const first = res.body.push.firstRow as number;
    expect(errors.map((e) => e.row_number)).toEqual([first + 1, first + 2, first + 3]);
    expect(errors[0]!.errors).toEqual([{ field: 'email', message: expect.stringContaining('email') }]);
  });

  test('NDJSON: one record per line, blank lines skipped, a bad line is a rejected row', async () => {
    const res = await push('customers', 'application/x-ndjson', '{"email":"n1@example.com"}\n\n{"email":"n2@example.com"}\r\n{oops\n');
    expect(res.status).toBe(202);
    expect(res.body.push.records).toBe(3);
    const job = await waitForJob(stack, res.body.id);
    expect(job.counts).toMatchObject({ valid: 2, invalid: 1 });
    const emails = (await recordData(stack, 'customers')).map((r) => r.email);
    expect(emails).toEqual(expect.arrayContaining(['n1@example.com', 'n2@example.com']));
  });

  test('text/plain: each non-empty line is a record {message, received_at}, mapped by the dataset’s aliases', async () => {
    const before = Date.now();
    const res = await push('events', 'text/plain', 'disk full on db-1\n\n  \nbackup finished\n');
    expect(res.status).toBe(202);
    expect(res.body.push.records).toBe(2);
    expect(await waitForJob(stack, res.body.id)).toMatchObject({ status: 'completed', counts: { valid: 2, inserted: 2 } });
    const rows = await recordData(stack, 'events', 'line');
    expect(rows.map((r) => r.line)).toEqual(['backup finished', 'disk full on db-1']);
    expect(new Date(rows[0]!.received_at as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  test('concurrent pushes coalesce into a batch: one job, each push its own rows', async () => {
    const jobsBefore = await countRows(stack, 'ingestion_jobs');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => push('customers', 'application/json', JSON.stringify({ email: `c${i}@example.com` }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(202));
    const jobIds = new Set(results.map((r) => r.body.id as string));
    expect(jobIds.size).toBeLessThan(20);
    expect((await countRows(stack, 'ingestion_jobs')) - jobsBefore).toBe(jobIds.size);
    const rows = results.map((r) => `${r.body.id}:${r.body.push.firstRow}`);
    expect(new Set(rows).size).toBe(20);
    for (const id of jobIds) expect((await waitForJob(stack, id)).status).toBe('completed');
    const { rows: landed } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM records WHERE data->>'email' LIKE 'c%@example.com'`.execute(stack.db);
    expect(landed[0]!.n).toBe(20);
  });

  test('X-Tenant-ID: the caller’s own is accepted, another or a malformed one is refused', async () => {
    const own = await push('customers', 'application/json', '{"email":"t@example.com"}', {
      'x-tenant-id': stack.tenantId,
    });
    expect(own.status).toBe(202);
    expectError(
      await push('customers', 'application/json', '{"email":"t@example.com"}', { 'x-tenant-id': '11111111-1111-1111-1111-111111111111' }),
      403,
      'forbidden',
    );
    expectError(
      await push('customers', 'application/json', '{"email":"t@example.com"}', { 'x-tenant-id': 'acme' }),
      403,
      'forbidden',
    );
  });
});

describe('POST /ingest refuses bad bodies and keeps nothing', () => {
  let jobsBefore: number;
  beforeEach(async () => {
    jobsBefore = await countRows(stack, 'ingestion_jobs');
  });
  afterEach(async () => {
    expect(await countRows(stack, 'ingestion_jobs')).toBe(jobsBefore);
  });

  test('invalid JSON → 400', async () => {
    expectError(await push('customers', 'application/json', '{"email": '), 400, 'bad_request');
  });

  test('a JSON scalar → 400', async () => {
    expectError(await push('customers', 'application/json', '"hello"'), 400, 'bad_request');
  });

  test('unknown dataset → 404', async () => {
    const error = expectError(await push('nope', 'application/json', '{"a":1}'), 404, 'not_found');
    expect(error.message).toContain('nope');
  });

  test('no dataset → 400', async () => {
    expectError(
      await request(stack, 'POST', '/ingest', { headers: { 'content-type': 'application/json' }, body: '{}' }),
      400,
      'validation_failed',
    );
  });

  test('over the body limit → 413', async () => {
    expectError(await push('customers', 'application/x-ndjson', `${'{"email":"x@example.com"}\n'.repeat(400)}`), 413, 'payload_too_large');
  });

  test('an empty push → 400', async () => {
    expectError(await push('customers', 'application/x-ndjson', '\n\n'), 400, 'bad_request');
    expectError(await push('customers', 'application/json', '[]'), 400, 'bad_request');
  });

  test('another content type → 415', async () => {
    expectError(await push('customers', 'application/xml', '<a/>'), 415, 'unsupported_media_type');
  });
});

test('a push accepted right before the API closes is flushed by the close, not lost', async () => {
  const local = await startTestStack({ PUSH_LINGER_MS: '5000', PUSH_QUIET_MS: '5000' }, { worker: false });
  try {
    await createDataset(local, CUSTOMERS);
    const pending = fetch(`${local.baseUrl}/ingest?dataset=customers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'late@example.com' }),
    });
    // The push waits in an open batch for 5 s; close well within that.
    await new Promise((r) => setTimeout(r, 300));
    const closing = local.app.close();
    const res = await pending;
    await closing;
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string };
    const { rows } = await sql<{ kind: string; status: string }>`SELECT kind, status FROM ingestion_jobs WHERE id = ${body.id}`.execute(
      local.db,
    );
    expect(rows).toEqual([{ kind: 'push', status: 'queued' }]);
    await local.startWorker();
    await until('the flushed push is processed', async () => {
      const { rows: done } = await sql<{ status: string }>`SELECT status FROM ingestion_jobs WHERE id = ${body.id}`.execute(
        local.db,
      );
      return done[0]?.status === 'completed';
    });
    expect(await recordData(local, 'customers')).toEqual([{ email: 'late@example.com' }]);
  } finally {
    await local.close();
  }
});

test('while no worker has taken a push job, later batches join it as segments; the job reads them in order', async () => {
  const local = await startTestStack({ PUSH_LINGER_MS: '1' }, { worker: false });
  try {
    await createDataset(local, CUSTOMERS);
    const send = (body: unknown) =>
      request(local, 'POST', '/ingest?dataset=customers', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const first = await send([{ email: 's1@example.com' }, { email: 's2@example.com' }]);
    const second = await send({ email: 'not-an-email' });
    const third = await send([{ email: 's3@example.com' }, { email: 's1@example.com', name: 'later wins' }]);
    expect([first.status, second.status, third.status]).toEqual([202, 202, 202]);
    expect(new Set([first.body.id, second.body.id, third.body.id]).size).toBe(1);
    expect([first.body.push, second.body.push, third.body.push]).toEqual([
      { records: 2, firstRow: 1, lastRow: 2 },
      { records: 1, firstRow: 3, lastRow: 3 },
      { records: 2, firstRow: 4, lastRow: 5 },
    ]);
    await local.startWorker();
    const job = await waitForJob(local, first.body.id as string);
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 5, valid: 4, invalid: 1, inserted: 3 } });
    expect((await validationErrorRows(local, job.id)).map((e) => e.row_number)).toEqual([3]);
    expect(await recordData(local, 'customers')).toEqual([
      { email: 's1@example.com', name: 'later wins' },
      { email: 's2@example.com' },
      { email: 's3@example.com' },
    ]);
    // Once a worker has the job, a new push starts a new one.
    const after = await send({ email: 's4@example.com' });
    expect(after.body.id).not.toBe(first.body.id);
    expect(after.body.push).toEqual({ records: 1, firstRow: 1, lastRow: 1 });
    expect((await waitForJob(local, after.body.id as string)).status).toBe('completed');
  } finally {
    await local.close();
  }
});

test('a batch is sealed once pushes pause, without waiting out the linger; pushes that come together share it', async () => {
  const local = await startTestStack({ PUSH_LINGER_MS: '10000', PUSH_QUIET_MS: '100' }, { worker: false });
  try {
    await createDataset(local, CUSTOMERS);
    const send = (email: string) =>
      request(local, 'POST', '/ingest?dataset=customers', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    const began = performance.now();
    const together = await Promise.all(['q1@example.com', 'q2@example.com', 'q3@example.com'].map(send));
    // Answered after the pause, far sooner than the 10 s linger.
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(together.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(together.map((r) => r.body.id)).size).toBe(1);
    expect(together.map((r) => r.body.push.firstRow).sort()).toEqual([1, 2, 3]);
  } finally {
    await local.close();
  }
});

test('a new push job waits PUSH_JOB_DELAY_MS before a worker takes it, and batches stored meanwhile join it', async () => {
  const local = await startTestStack({ PUSH_LINGER_MS: '1', PUSH_QUIET_MS: '1', PUSH_JOB_DELAY_MS: '1500' });
  try {
    await createDataset(local, CUSTOMERS);
    const send = (email: string) =>
      request(local, 'POST', '/ingest?dataset=customers', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    // One after another: each its own batch, while the worker is idle and could take the job.
    const answers = [];
    for (const email of ['d1@example.com', 'd2@example.com', 'd3@example.com']) answers.push(await send(email));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
    expect(answers.map((r) => r.body.push)).toEqual([
      { records: 1, firstRow: 1, lastRow: 1 },
      { records: 1, firstRow: 2, lastRow: 2 },
      { records: 1, firstRow: 3, lastRow: 3 },
    ]);
    const job = await waitForJob(local, answers[0]!.body.id as string);
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 3, inserted: 3 } });
    expect(await recordData(local, 'customers')).toEqual([{ email: 'd1@example.com' }, { email: 'd2@example.com' }, { email: 'd3@example.com' }]);
  } finally {
    await local.close();
  }
});

test('a push job takes at most MAX_PUSH_SEGMENTS batches; the next starts a new job', async () => {
  const local = await startTestStack({ PUSH_LINGER_MS: '0', PUSH_QUIET_MS: '0' }, { worker: false });
  try {
    await createDataset(local, CUSTOMERS);
    const send = (i: number) =>
      request(local, 'POST', '/ingest?dataset=customers', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `seg${i}@example.com` }),
      });
    const jobs: string[] = [];
    // One at a time: each push is a batch of its own, and so a segment of its own.
    for (let i = 0; i <= MAX_PUSH_SEGMENTS; i++) jobs.push((await send(i)).body.id as string);
    expect(new Set(jobs.slice(0, MAX_PUSH_SEGMENTS)).size).toBe(1);
    expect(jobs[MAX_PUSH_SEGMENTS]).not.toBe(jobs[0]);
    const { rows } = await sql<{ segments: number }>`
      SELECT jsonb_array_length(options -> 'segments')::int AS segments FROM ingestion_jobs WHERE id = ${jobs[0]!}`.execute(local.db);
    expect(rows).toEqual([{ segments: MAX_PUSH_SEGMENTS }]);
  } finally {
    await local.close();
  }
}, 120_000);
