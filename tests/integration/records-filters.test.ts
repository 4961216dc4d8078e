import { sql } from 'kysely';
import { startMockApi, type MockApi } from '../helpers/mock-api.js';
import { CUSTOMERS, getJson, postJson, startTestStack, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, ingest, request, walkPages } from './support.js';

let stack: TestStack;
let api: MockApi;
let uploadJob: string;
let pushJob: string;
let sourceId: string;

const emails = (items: Array<{ data: { email: string } }>) => items.map((i) => i.data.email).sort();

beforeAll(async () => {
  stack = await startTestStack();
  await createDataset(stack, CUSTOMERS);
  const rows = Array.from(
    { length: 30 },
    (_, i) => `u${i}@example.com,User ${i},${['DE', 'FR', 'US'][i % 3]},${i % 5},${i % 2 === 0 ? 'yes' : 'no'}`,
  );
  uploadJob = (await ingest(stack, 'customers', 'c.csv', `email,name,country,amount,active\n${rows.join('\n')}\n`)).job.id;
  const pushed = await postJson(stack, '/ingest?dataset=customers', [
    { email: 'p1@example.com', country: 'DE', amount: 1 },
    { email: 'p2@example.com', country: 'US', amount: 2 },
  ]);
  pushJob = pushed.body.id as string;
  await waitForJob(stack, pushJob);
  api = await startMockApi(() => ({ body: [{ email: 'q1@example.com', country: 'de' }] }));
  sourceId = (await postJson(stack, '/sources', { name: 'crm', dataset: 'customers', url: `${api.url}/people` })).body.id as string;
  const run = await postJson(stack, `/sources/${sourceId}/run`, {});
  await waitForJob(stack, run.body.id as string);
});
afterAll(async () => {
  await api.close();
  await stack.close();
});

test('by job: the records that job wrote', async () => {
  const { items } = await walkPages(stack, `/records?job=${pushJob}`, 100);
  expect(emails(items)).toEqual(['p1@example.com', 'p2@example.com']);
  const upload = await walkPages(stack, `/records?dataset=customers&job=${uploadJob}`, 7);
  expect(upload.items).toHaveLength(30);
});

test('by source: the records its runs wrote', async () => {
  const { items } = await walkPages(stack, `/records?source=${sourceId}`, 10);
  expect(items.map((i) => i.data)).toEqual([{ email: 'q1@example.com', country: 'DE' }]);
});

test('by data fields, compared as the stored (normalized) values, with stable keyset pages', async () => {
  const de = await walkPages(stack, '/records?dataset=customers&filter[country]=de', 3);
  expect(de.items.every((i) => i.data.country === 'DE')).toBe(true);
  expect(de.items).toHaveLength(10 + 1 + 1);
  const typed = await walkPages(stack, '/records?dataset=customers&filter[amount]=2&filter[active]=true', 2);
  expect(emails(typed.items)).toEqual(['u12@example.com', 'u22@example.com', 'u2@example.com']);
  const byEmail = await getJson(stack, '/records?dataset=customers&filter[email]=U7@Example.com');
  expect(emails(byEmail.body.items)).toEqual(['u7@example.com']);
});

test('by time range on updated_at', async () => {
  await sql`UPDATE records SET updated_at = '2020-01-01T00:00:00Z' WHERE data->>'email' = 'u0@example.com'`.execute(stack.db);
  const old = await walkPages(stack, '/records?dataset=customers&until=2021-01-01T00:00:00Z', 10);
  expect(emails(old.items)).toEqual(['u0@example.com']);
  const recent = await walkPages(stack, '/records?dataset=customers&since=2021-01-01T00:00:00Z', 100);
  expect(recent.items).toHaveLength(32);
});

test('bad filters answer 400 or 404 in the one shape', async () => {
  expectError(await request(stack, 'GET', '/records?dataset=customers&filter[shoe]=1'), 400, 'validation_failed');
  expectError(await request(stack, 'GET', '/records?dataset=customers&filter[amount]=lots'), 400, 'validation_failed');
  expectError(await request(stack, 'GET', '/records?dataset=customers&since=yesterday'), 400, 'validation_failed');
  expectError(await request(stack, 'GET', '/records'), 400, 'validation_failed');
  expectError(await request(stack, 'GET', '/records?job=00000000-0000-0000-0000-000000000001'), 404, 'not_found');
});
