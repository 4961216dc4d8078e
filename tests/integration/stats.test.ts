import { startMockApi, type MockApi } from '../helpers/mock-api.js';
import { CUSTOMERS, getJson, postJson, startTestStack, waitForJob, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, ingest } from './support.js';

let stack: TestStack;
let api: MockApi;

beforeAll(async () => {
  stack = await startTestStack();
  api = await startMockApi(() => ({ body: [{ email: 'a@example.com', country: 'DE' }, { email: 'z@example.com' }] }));
});
afterAll(async () => {
  await api.close();
  await stack.close();
});

test('an empty tenant: zeros, 30 days of them, no rates', async () => {
  const { status, body } = await getJson(stack, '/stats');
  expect(status).toBe(200);
  expect(body.totals).toMatchObject({ records: 0, jobs: 0, rows: 0, rejectRate: null, unchangedRate: null });
  expect(body.daily).toHaveLength(30);
  expect(body.daily.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), rows: 0, valid: 0, invalid: 0 });
  expect(body.datasets).toEqual([]);
});

test('totals per dataset and per way in, rates, rows per day, and each source’s last success', async () => {
  await createDataset(stack, CUSTOMERS);
  await createDataset(stack, { name: 'notes', fields: [{ name: 'message', type: 'string', required: true }] });
  // Upload: 4 rows, 1 rejected; the same again: 3 unchanged, 1 rejected.
  const csv = 'email,country\na@example.com,DE\nb@example.com,FR\nnot-an-email,DE\nc@example.com,US\n';
  await ingest(stack, 'customers', 'c.csv', csv);
  await ingest(stack, 'customers', 'c.csv', csv);
  // Push: 2 rows, 1 rejected.
  const pushed = await postJson(stack, '/ingest?dataset=customers', [{ email: 'd@example.com' }, { email: 'nope' }]);
  await waitForJob(stack, pushed.body.id as string);
  await waitForJob(stack, (await postJson(stack, '/ingest?dataset=notes', { message: 'hi' })).body.id as string);
  // Pull: 2 rows, a@ unchanged, z@ new.
  const source = await postJson(stack, '/sources', { name: 'crm', dataset: 'customers', url: `${api.url}/people` });
  const run = await postJson(stack, `/sources/${source.body.id as string}/run`, {});
  const pull = await waitForJob(stack, run.body.id as string);

  const { body } = await getJson(stack, '/stats');
  expect(body.totals).toMatchObject({ records: 6, jobs: 5, rows: 13, valid: 10, invalid: 3, inserted: 6, updated: 0, unchanged: 4 });
  expect(body.totals.rejectRate).toBeCloseTo(3 / 13, 4);
  expect(body.totals.unchangedRate).toBeCloseTo(4 / 10, 4);
  const customers = body.datasets.find((d: { dataset: string }) => d.dataset === 'customers');
  expect(customers).toMatchObject({ records: 5, jobs: 4, rows: 12, invalid: 3 });
  expect(customers.byWay.upload).toMatchObject({
    jobs: 2,
    rows: 8,
    valid: 6,
    invalid: 2,
    inserted: 3,
    unchanged: 3,
    rejectRate: 0.25,
    unchangedRate: 0.5,
  });
  expect(customers.byWay.push).toMatchObject({ jobs: 1, rows: 2, invalid: 1, inserted: 1 });
  expect(customers.byWay.pull).toMatchObject({ jobs: 1, rows: 2, inserted: 1, unchanged: 1 });
  expect(body.daily.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), rows: 13, valid: 10, invalid: 3 });
  expect(body.sources).toEqual([
    expect.objectContaining({
      name: 'crm',
      dataset: 'customers',
      lastSuccessJobId: pull.id,
      lastSuccessAt: expect.any(String),
      openRunJobId: null,
    }),
  ]);

  const notes = await getJson(stack, '/stats?dataset=notes');
  expect(notes.body.totals).toMatchObject({ records: 1, jobs: 1, rows: 1 });
  expect(notes.body.datasets.map((d: { dataset: string }) => d.dataset)).toEqual(['notes']);
  expect(notes.body.sources).toEqual([]);
  expectError(await getJson(stack, '/stats?dataset=nope'), 404, 'not_found');
});
