import { sql } from 'kysely';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { getJson, postJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';

const DATASET = { name: 'ticks', key: ['id'], fields: [{ name: 'id', type: 'integer', required: true }] };
const LOCK_MS = 5_000;

describe('a job whose batches are slow keeps its lock', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ WORKER_LOCK_MS: String(LOCK_MS), WORKER_STALLED_INTERVAL_MS: '1000', BATCH_ROWS: '200' });
    expect((await postJson(stack, '/datasets', DATASET)).status).toBe(201);
  });
  afterAll(async () => stack.close());

  test('a batch held up for more than twice the lock time neither stalls the job nor runs it twice', async () => {
    const rows = 20_000;
    const csv = ['id', ...Array.from({ length: rows }, (_, i) => String(i + 1))].join('\n');
    const { body: job } = await upload(stack, 'ticks.csv', csv, { dataset: 'ticks' });
    for (let t = Date.now(); (await getJson(stack, `/jobs/${job.id}`)).body.status !== 'processing'; ) {
      if (Date.now() - t > 10_000) throw new Error('the job never started');
      await new Promise((r) => setTimeout(r, 5));
    }

    // Hold the job row: the worker's next batch waits for it, inside PostgreSQL, while the
    // worker must keep renewing its BullMQ lock.
    const blocker = new pg.Client({ connectionString: stack.config.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM ingestion_jobs WHERE id = $1 FOR UPDATE', [job.id]);
      const heldFrom = Date.now();
      await new Promise((r) => setTimeout(r, 2.5 * LOCK_MS));
      await blocker.query('COMMIT');
      const done = await waitForJob(stack, job.id);
      expect(Date.now() - heldFrom).toBeGreaterThan(2 * LOCK_MS);
      expect(done.status).toBe('completed');
      expect(done.attempts).toBe(1);
      expect(done.counts).toEqual({ rows, valid: rows, invalid: 0, inserted: rows, updated: 0, unchanged: 0 });
      const { rows: count } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM records`.execute(stack.db);
      expect(count[0]?.n).toBe(rows);
    } finally {
      await blocker.end();
    }
  });
});

describe('an upload that cannot be stored', () => {
  let stack: TestStack;
  let notADirectory: string;
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'sluice-unstorable-'));
    notADirectory = path.join(scratch, 'uploads');
    await writeFile(notADirectory, 'a file where the storage folder should be');
    stack = await startTestStack({ STORAGE_DIR: notADirectory });
    expect((await postJson(stack, '/datasets', DATASET)).status).toBe(201);
  });
  afterAll(async () => {
    await stack.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('answers 503 in the one error shape, naming the disk’s fault but none of its paths, and leaves no job and no file', async () => {
    const res = await upload(stack, 'ticks.csv', 'id\n1\n', { dataset: 'ticks' });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'unavailable', message: 'storage could not write the file (ENOTDIR)' } });
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ingestion_jobs`.execute(stack.db);
    expect(rows[0]?.n).toBe(0);
    expect(await readdir(scratch)).toEqual(['uploads']);
  });
});
