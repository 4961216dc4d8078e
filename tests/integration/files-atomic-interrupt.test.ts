import { sql } from 'kysely';
import { startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { customers } from './files-support.js';
import { countRows, createDataset, recordRows, until } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ BATCH_ROWS: '500' });
});
afterAll(async () => stack.close());

const ROWS = 60_000;

/** Whether some transaction of the test database has written and not yet ended: the atomic job's. */
async function openWritingTransaction(): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`.execute(stack.db);
  return rows[0]!.n > 0;
}

test('an atomic job stopped mid-file shows no row; its next run lands the whole file, counted once', async () => {
  await createDataset(stack, customers('atomic-stop'));
  const csv = `customer_id,name\n${Array.from({ length: ROWS }, (_, i) => `${i + 1},Name ${i + 1}`).join('\n')}\n`;
  const res = await upload(stack, 'big.csv', csv, { dataset: 'atomic-stop', atomic: 'true' });
  expect(res.status).toBe(202);

  // Batches are being written inside the file's one transaction; none of it is visible.
  await until('the atomic job has written rows in its transaction', openWritingTransaction, 20_000);
  expect(await recordRows(stack, 'atomic-stop')).toEqual([]);

  await stack.stopWorker();
  const stopped = (await waitForJobState(res.body.id as string)) as { status: string; counts: Record<string, number> };
  expect(stopped.status).not.toBe('completed');
  expect(await countRows(stack, 'records')).toBe(0);
  expect(stopped.counts).toEqual({ rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 });

  await stack.startWorker();
  const job = await waitForJob(stack, res.body.id as string, 60_000);
  expect(job.status).toBe('completed');
  expect(job.counts).toEqual({ rows: ROWS, valid: ROWS, invalid: 0, inserted: ROWS, updated: 0, unchanged: 0 });
  const records = await recordRows(stack, 'atomic-stop');
  expect(records).toHaveLength(ROWS);
  expect(new Set(records.map((r) => r.data.customer_id)).size).toBe(ROWS);
});

async function waitForJobState(id: string) {
  const { rows } = await sql<{
    status: string;
    rows_seen: number;
    rows_valid: number;
    rows_invalid: number;
    rows_inserted: number;
    rows_updated: number;
    rows_unchanged: number;
  }>`
    SELECT status, rows_seen::int, rows_valid::int, rows_invalid::int, rows_inserted::int, rows_updated::int, rows_unchanged::int
    FROM ingestion_jobs WHERE id = ${id}`.execute(stack.db);
  const r = rows[0]!;
  return {
    status: r.status,
    counts: {
      rows: r.rows_seen,
      valid: r.rows_valid,
      invalid: r.rows_invalid,
      inserted: r.rows_inserted,
      updated: r.rows_updated,
      unchanged: r.rows_unchanged,
    },
  };
}
