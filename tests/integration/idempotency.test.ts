import { sql } from 'kysely';
import { getJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { countRows, createDataset, ingest, listFiles, recordData, recordRows, sha256 } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

function customers(name: string) {
  return {
    name,
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true, aliases: ['E-mail'] },
      { name: 'name', type: 'string' },
      { name: 'amount', type: 'number', min: 0 },
      { name: 'country', type: 'enum', values: ['DE', 'FR', 'US'] },
    ],
  };
}

const HEADER = 'E-mail,name,amount,country';
const ROWS = ['ann@example.com,Ann,10.5,DE', 'bob@example.com,Bob,3,FR', 'carl@example.com,Carl,4,US', 'bad-email,Dan,1,DE'];
const FILE = [HEADER, ...ROWS, ''].join('\n');

async function jobRowsOf(dataset: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM ingestion_jobs j JOIN datasets d ON d.id = j.dataset_id WHERE d.name = ${dataset}`.execute(stack.db);
  return rows[0]!.n;
}

describe('the same data again changes nothing; a change updates just its record', () => {
  const dataset = 'idem-file';
  let first: string;
  let snapshot: Awaited<ReturnType<typeof recordRows>>;
  beforeAll(async () => {
    await createDataset(stack, customers(dataset));
    const { job } = await ingest(stack, dataset, 'customers.csv', FILE);
    first = job.id;
    expect(job.counts).toEqual({ rows: 4, valid: 3, invalid: 1, inserted: 3, updated: 0, unchanged: 0 });
    snapshot = await recordRows(stack, dataset);
  });

  test('identity and version hashes are SHA-256 of the canonical JSON of the key fields and of all fields', () => {
    const ann = snapshot.find((r) => r.data.email === 'ann@example.com')!;
    expect(ann.data).toEqual({ email: 'ann@example.com', name: 'Ann', amount: 10.5, country: 'DE' });
    expect(ann.key_hash).toBe(sha256('{"email":"ann@example.com"}'));
    expect(ann.content_hash).toBe(sha256('{"amount":10.5,"country":"DE","email":"ann@example.com","name":"Ann"}'));
  });

  test('the same file again: inserted 0, every valid row unchanged, the records untouched', async () => {
    const { job } = await ingest(stack, dataset, 'customers.csv', FILE);
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ rows: 4, valid: 3, invalid: 1, inserted: 0, updated: 0, unchanged: 3 });
    expect(await recordRows(stack, dataset)).toEqual(snapshot);
  });

  test('the same rows in another order, another format and other spellings: still nothing changes', async () => {
    const json = JSON.stringify([
      { country: 'us', amount: '4', name: ' Carl ', email: 'CARL@example.com' },
      { email: 'bob@example.com', name: 'Bob', amount: 3.0, country: 'FR' },
      { email: 'Ann@Example.com', name: 'Ann', amount: '10.50', country: 'DE' },
    ]);
    const { job } = await ingest(stack, dataset, 'same.json', json);
    expect(job.counts).toEqual({ rows: 3, valid: 3, invalid: 0, inserted: 0, updated: 0, unchanged: 3 });
    expect(await recordRows(stack, dataset)).toEqual(snapshot);
  });

  test('one changed amount: updated 1, the others unchanged, only that record rewritten', async () => {
    const changed = FILE.replace('bob@example.com,Bob,3,FR', 'bob@example.com,Bob,30,FR');
    const { job } = await ingest(stack, dataset, 'customers.csv', changed);
    expect(job.counts).toEqual({ rows: 4, valid: 3, invalid: 1, inserted: 0, updated: 1, unchanged: 2 });

    const after = await recordRows(stack, dataset);
    expect(after).toHaveLength(3);
    for (const old of snapshot) {
      const now = after.find((r) => r.id === old.id)!;
      if (old.data.email !== 'bob@example.com') {
        expect(now).toEqual(old);
        continue;
      }
      expect(now.data).toEqual({ email: 'bob@example.com', name: 'Bob', amount: 30, country: 'FR' });
      expect(now.key_hash).toBe(old.key_hash);
      expect(now.content_hash).not.toBe(old.content_hash);
      expect(now.first_job_id).toBe(first);
      expect(now.last_job_id).toBe(job.id);
      expect(now.created_at).toEqual(old.created_at);
      expect(now.updated_at.getTime()).toBeGreaterThan(old.updated_at.getTime());
    }
    const viaApi = await getJson(stack, `/records/${after.find((r) => r.data.email === 'bob@example.com')!.id}`);
    expect(viaApi.body).toEqual(expect.objectContaining({ jobId: job.id, data: { email: 'bob@example.com', name: 'Bob', amount: 30, country: 'FR' } }));
  });
});

describe('one identity twice in one file', () => {
  test('keeps one record, with the later row’s data', async () => {
    await createDataset(stack, customers('idem-twice'));
    const file = [HEADER, 'eve@example.com,Eve,1,DE', 'zed@example.com,Zed,2,FR', 'EVE@example.com,Eve Later,5,US', ''].join('\n');
    const { job } = await ingest(stack, 'idem-twice', 'twice.csv', file);
    expect(job.status).toBe('completed');
    // Two rows fold into one record: one inserted, and the folded row counts as unchanged.
    expect(job.counts).toEqual({ rows: 3, valid: 3, invalid: 0, inserted: 2, updated: 0, unchanged: 1 });
    expect(await recordData(stack, 'idem-twice')).toEqual([
      { email: 'eve@example.com', name: 'Eve Later', amount: 5, country: 'US' },
      { email: 'zed@example.com', name: 'Zed', amount: 2, country: 'FR' },
    ]);
    const records = await getJson(stack, '/records?dataset=idem-twice');
    expect(records.body.items).toHaveLength(2);
  });

  test('in NDJSON too: the later line wins', async () => {
    await createDataset(stack, customers('idem-twice-ndjson'));
    const file = '{"email":"fay@example.com","name":"Fay","amount":1,"country":"DE"}\n{"email":"fay@example.com","name":"Fay","amount":2,"country":"DE"}\n';
    const { job } = await ingest(stack, 'idem-twice-ndjson', 'twice.ndjson', file);
    expect(job.counts).toEqual({ rows: 2, valid: 2, invalid: 0, inserted: 1, updated: 0, unchanged: 1 });
    expect(await recordData(stack, 'idem-twice-ndjson')).toEqual([{ email: 'fay@example.com', name: 'Fay', amount: 2, country: 'DE' }]);
  });
});

describe('Idempotency-Key', () => {
  test('the same key returns the same job with 200, and creates no second job row and no second file', async () => {
    await createDataset(stack, customers('idem-key'));
    const key = 'upload-2024-03-07-0001';
    const first = await upload(stack, 'customers.csv', FILE, { dataset: 'idem-key' }, { headers: { 'Idempotency-Key': key } });
    expect(first.status).toBe(202);
    const done = await waitForJob(stack, first.body.id);
    expect(done.counts).toEqual({ rows: 4, valid: 3, invalid: 1, inserted: 3, updated: 0, unchanged: 0 });
    const jobsBefore = await countRows(stack, 'ingestion_jobs');
    const filesBefore = await listFiles(stack.storageDir);

    // Even with other content: the key names the upload.
    const again = await upload(stack, 'other.csv', `${HEADER}\nnew@example.com,New,1,DE\n`, { dataset: 'idem-key' }, { headers: { 'Idempotency-Key': key } });
    expect(again.status).toBe(200);
    expect(again.headers.get('location')).toBe(`/jobs/${first.body.id}`);
    expect(again.body).toEqual(done);

    expect(await countRows(stack, 'ingestion_jobs')).toBe(jobsBefore);
    expect(await jobRowsOf('idem-key')).toBe(1);
    expect(await listFiles(stack.storageDir)).toEqual(filesBefore);
    expect(await recordData(stack, 'idem-key')).toHaveLength(3);
    const { rows } = await sql<{ idempotency_key: string }>`SELECT idempotency_key FROM ingestion_jobs WHERE id = ${first.body.id}`.execute(stack.db);
    expect(rows).toEqual([{ idempotency_key: key }]);
  });

  test('two uploads racing with one key: one job, both answers name it, one file stored', async () => {
    await createDataset(stack, customers('idem-race'));
    const filesBefore = await listFiles(stack.storageDir);
    const key = 'race-key-1';
    const [a, b] = await Promise.all([
      upload(stack, 'a.csv', FILE, { dataset: 'idem-race' }, { headers: { 'Idempotency-Key': key } }),
      upload(stack, 'b.csv', FILE, { dataset: 'idem-race' }, { headers: { 'Idempotency-Key': key } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    expect(a.body.id).toBe(b.body.id);
    expect(await jobRowsOf('idem-race')).toBe(1);
    await waitForJob(stack, a.body.id);
    const added = (await listFiles(stack.storageDir)).filter((f) => !filesBefore.includes(f));
    expect(added).toHaveLength(1);
  });

  test('different keys make different jobs', async () => {
    await createDataset(stack, customers('idem-keys'));
    const one = await upload(stack, 'c.csv', FILE, { dataset: 'idem-keys' }, { headers: { 'Idempotency-Key': 'k-1' } });
    const two = await upload(stack, 'c.csv', FILE, { dataset: 'idem-keys' }, { headers: { 'Idempotency-Key': 'k-2' } });
    expect([one.status, two.status]).toEqual([202, 202]);
    expect(one.body.id).not.toBe(two.body.id);
    await waitForJob(stack, one.body.id);
    await waitForJob(stack, two.body.id);
    expect(await jobRowsOf('idem-keys')).toBe(2);
  });
});
