import { sql } from 'kysely';
import { getJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, ingest, ISO_RE, request, sha256, UUID_RE, walkPages } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

function contacts(name: string) {
  return {
    name,
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'name', type: 'string', required: true },
      { name: 'amount', type: 'number', min: 0 },
    ],
  };
}

describe('GET /jobs/:id', () => {
  test('a completed job: every field, with the uploaded bytes’ size and SHA-256', async () => {
    await createDataset(stack, contacts('job-fields'));
    // Multi-byte characters: the byte length is not the string length.
    const csv = 'email,name,amount\r\nzoe@example.com,Zoë Ørsted,1\r\nbad-email,Ünal,2\r\nmax@example.com,Max,-1\r\nana@example.com,Ana,3\r\n';
    const bytes = new TextEncoder().encode(csv);
    expect(bytes.length).toBeGreaterThan(csv.length);

    const res = await upload(stack, 'contacts.csv', bytes, { dataset: 'job-fields' });
    expect(res.status).toBe(202);
    const job = await waitForJob(stack, res.body.id);
    expect(job).toEqual({
      id: res.body.id,
      status: 'completed',
      dataset: 'job-fields',
      kind: 'upload',
      sourceId: null,
      file: { name: 'contacts.csv', format: 'csv', sizeBytes: bytes.length, sha256: sha256(bytes) },
      options: {},
      reading: {
        encoding: 'utf-8',
        bom: false,
        encodingBy: 'detected',
        header: true,
        delimiter: ',',
        delimiterBy: 'detected',
        decimal: '.',
        unknownColumns: 'ignore',
        columns: [
          { column: 'email', field: 'email', action: 'field' },
          { column: 'name', field: 'name', action: 'field' },
          { column: 'amount', field: 'amount', action: 'field' },
        ],
      },
      counts: { rows: 4, valid: 2, invalid: 2, inserted: 2, updated: 0, unchanged: 0 },
      progress: 1,
      attempts: 1,
      error: null,
      correlationId: expect.any(String),
      createdAt: expect.stringMatching(ISO_RE),
      startedAt: expect.stringMatching(ISO_RE),
      finishedAt: expect.stringMatching(ISO_RE),
    });
    const created = Date.parse(job.createdAt as string);
    const started = Date.parse(job.startedAt as string);
    const finished = Date.parse(job.finishedAt as string);
    expect(created).toBeLessThanOrEqual(started);
    expect(started).toBeLessThanOrEqual(finished);

    // The same in the table, and the stored file is the uploaded bytes.
    const { rows } = await sql<{ size_bytes: number; sha256: string; status: string; storage_key: string }>`
      SELECT size_bytes, sha256, status, storage_key FROM ingestion_jobs WHERE id = ${job.id}`.execute(stack.db);
    expect(rows).toEqual([{ size_bytes: bytes.length, sha256: sha256(bytes), status: 'completed', storage_key: expect.any(String) }]);
    const stored: Buffer[] = [];
    for await (const chunk of await stack.deps.storage.read(rows[0]!.storage_key)) stored.push(chunk as Buffer);
    expect(sha256(Buffer.concat(stored))).toBe(sha256(bytes));
  });

  test('a job accepted while no worker runs is queued, with progress 0 and no start; it completes once a worker runs', async () => {
    await createDataset(stack, contacts('job-queued'));
    await stack.stopWorker();
    let id: string;
    try {
      const res = await upload(stack, 'q.csv', 'email,name,amount\nq@example.com,Q,1\n', { dataset: 'job-queued' });
      expect(res.status).toBe(202);
      id = res.body.id as string;
      for (const body of [res.body, (await getJson(stack, `/jobs/${id}`)).body]) {
        expect(body).toEqual(
          expect.objectContaining({
            id,
            status: 'queued',
            progress: 0,
            counts: { rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 },
            error: null,
            startedAt: null,
            finishedAt: null,
          }),
        );
      }
    } finally {
      await stack.startWorker();
    }
    const done = await waitForJob(stack, id);
    expect(done.status).toBe('completed');
    expect(done.counts).toEqual({ rows: 1, valid: 1, invalid: 0, inserted: 1, updated: 0, unchanged: 0 });
    expect(done.progress).toBe(1);
  });

  test('a file that is not a JSON array fails at once with parse_error and its line, without retries', async () => {
    await createDataset(stack, contacts('job-parse'));
    const { job } = await ingest(stack, 'job-parse', 'not-array.json', '\n\n{"email":"a@example.com","name":"A"}\n');
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'parse_error', message: expect.stringContaining('line 3'), line: 3 });
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).toEqual(expect.stringMatching(ISO_RE));
    expect(job.counts).toEqual({ rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 });
  });

  test('an unknown job id → 404 not_found; a malformed one too', async () => {
    expectError(await getJson(stack, '/jobs/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    expectError(await getJson(stack, '/jobs/not-a-uuid'), 404, 'not_found');
    expectError(await getJson(stack, '/jobs/00000000-0000-4000-8000-000000000000/errors'), 404, 'not_found');
  });
});

describe('GET /jobs', () => {
  // Jobs of two datasets of this describe's own: three completed in A, one completed and one failed in B.
  const a: string[] = [];
  const b: string[] = [];
  let failedInB: string;
  beforeAll(async () => {
    await createDataset(stack, contacts('list-a'));
    await createDataset(stack, contacts('list-b'));
    for (let i = 0; i < 3; i++) a.push((await ingest(stack, 'list-a', `a${i}.csv`, `email,name,amount\na${i}@example.com,A${i},${i}\n`)).job.id);
    b.push((await ingest(stack, 'list-b', 'b0.csv', 'email,name,amount\nb0@example.com,B0,0\n')).job.id);
    failedInB = (await ingest(stack, 'list-b', 'b1.json', '{"not":"an array"}')).job.id;
    b.push(failedInB);
  });

  test('newest first, each item the same as GET /jobs/:id', async () => {
    const res = await getJson(stack, '/jobs?dataset=list-a');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((j: { id: string }) => j.id)).toEqual([...a].reverse());
    for (const item of res.body.items) expect(item).toEqual((await getJson(stack, `/jobs/${item.id}`)).body);

    // Unfiltered: every job of the tenant, in the order the table gives newest first.
    const all = await getJson(stack, '/jobs?limit=1000');
    const { rows } = await sql<{ id: string }>`SELECT id FROM ingestion_jobs ORDER BY created_at DESC, id DESC`.execute(stack.db);
    expect(all.body.items.map((j: { id: string }) => j.id)).toEqual(rows.map((r) => r.id));
    expect(all.body.items.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining([...a, ...b]));
  });

  test('filters by dataset and by status, alone and together', async () => {
    const ids = async (query: string) => (await getJson(stack, `/jobs?${query}`)).body.items.map((j: { id: string }) => j.id);
    expect(await ids('dataset=list-b')).toEqual([...b].reverse());
    expect(await ids('dataset=list-b&status=completed')).toEqual([b[0]]);
    expect(await ids('dataset=list-b&status=failed')).toEqual([failedInB]);
    expect(await ids('dataset=list-a&status=failed')).toEqual([]);
    const failed = await getJson(stack, '/jobs?status=failed');
    expect(failed.body.items.length).toBeGreaterThan(0);
    expect(failed.body.items.every((j: { status: string }) => j.status === 'failed')).toBe(true);
    expect(failed.body.items.map((j: { id: string }) => j.id)).toContain(failedInB);
    const unknown = await getJson(stack, '/jobs?dataset=no-such-dataset');
    expect(unknown).toEqual(expect.objectContaining({ status: 200, body: { items: [], nextCursor: null } }));
  });

  test('cursor pagination: limit=1 walks every page once, newest first, and ends with nextCursor null', async () => {
    const walk = await walkPages(stack, '/jobs?dataset=list-b', 1);
    expect(walk.pages.map((p) => p.items.length)).toEqual([1, 1]);
    expect(walk.pages[0]!.nextCursor).toBe(b[1]);
    expect(walk.ids).toEqual([...b].reverse());

    const walkA = await walkPages(stack, '/jobs?dataset=list-a', 1);
    expect(walkA.pages.map((p) => p.items.length)).toEqual([1, 1, 1]);
    expect(walkA.ids).toEqual([...a].reverse());

    const walkA2 = await walkPages(stack, '/jobs?dataset=list-a', 2);
    expect(walkA2.pages.map((p) => p.items.length)).toEqual([2, 1]);
    expect(walkA2.ids).toEqual([...a].reverse());

    // Every job of the tenant, one page at a time, is the unpaged list.
    const everything = await walkPages(stack, '/jobs', 1);
    const unpaged = await getJson(stack, '/jobs?limit=1000');
    expect(everything.ids).toEqual(unpaged.body.items.map((j: { id: string }) => j.id));
  });

  test.each([
    ['an unknown status', '/jobs?status=done'],
    ['limit 0', '/jobs?limit=0'],
    ['limit over 1000', '/jobs?limit=1001'],
    ['a cursor that is not a job id', '/jobs?cursor=abc'],
  ])('%s → 400 validation_failed', async (_label, url) => {
    expectError(await request(stack, 'GET', url), 400, 'validation_failed');
  });
});

test('job ids are UUIDs and Location points at the job', async () => {
  await createDataset(stack, contacts('job-location'));
  const res = await upload(stack, 'l.csv', 'email,name,amount\nl@example.com,L,1\n', { dataset: 'job-location' });
  expect(res.body.id).toMatch(UUID_RE);
  expect(res.headers.get('location')).toBe(`/jobs/${res.body.id}`);
  const followed = await getJson(stack, res.headers.get('location')!);
  expect(followed.status).toBe(200);
  expect(followed.body.id).toBe(res.body.id);
  await waitForJob(stack, res.body.id);
});
