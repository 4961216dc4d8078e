import { sql } from 'kysely';
import { CUSTOMERS, getJson, postJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  expect((await postJson(stack, '/datasets', CUSTOMERS)).status).toBe(201);
});
afterAll(async () => stack.close());

const CSV = [
  'E-mail,Name,signup_date,amount,country,active',
  'ann@example.com,Ann,2024-01-05,10.5,DE,yes',
  'bob@example.com,Bob,2024-02-05,3,FR,no',
  'carl@example.com,Carl,2024-03-05,4,US,true',
].join('\n');

test('an upload lands validated rows, and the same file again changes nothing', async () => {
  const first = await upload(stack, 'customers.csv', CSV, { dataset: 'customers' });
  expect(first.status).toBe(202);
  expect(first.headers.get('location')).toBe(`/jobs/${first.body.id}`);
  const done = await waitForJob(stack, first.body.id);
  expect(done.status).toBe('completed');
  expect(done.counts).toEqual({ rows: 3, valid: 3, invalid: 0, inserted: 3, updated: 0, unchanged: 0 });

  const again = await upload(stack, 'customers.csv', CSV, { dataset: 'customers' });
  const second = await waitForJob(stack, again.body.id);
  expect(second.counts).toEqual({ rows: 3, valid: 3, invalid: 0, inserted: 0, updated: 0, unchanged: 3 });

  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM records`.execute(stack.db);
  expect(rows[0]?.n).toBe(3);
  const records = await getJson(stack, '/records?dataset=customers');
  expect(records.body.items.map((r: { data: { email: string } }) => r.data.email).sort()).toEqual(['ann@example.com', 'bob@example.com', 'carl@example.com']);
});
