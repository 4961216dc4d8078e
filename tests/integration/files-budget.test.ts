import { getJson, startTestStack, waitForJob, type TestStack } from '../helpers/stack.js';
import { customerRecords, customers, fixture } from './files-support.js';
import { createDataset, ingest, recordRows, request, validationErrorRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  // Batches of two rows, so a budget stops a job between batches.
  stack = await startTestStack({ BATCH_ROWS: '2' });
});
afterAll(async () => stack.close());

const FIRST_ROWS = [
  { customer_id: 30, name: 'Row one', amount: 1 },
  { customer_id: 31, name: 'Row two', amount: 2 },
  { customer_id: 33, name: 'Row four', amount: 4 },
  { customer_id: 35, name: 'Row six', amount: 6 },
  { customer_id: 36, name: 'Row seven', amount: 7 },
];

test('maxErrors: past the budget the job fails with threshold_exceeded at the row and line that broke it; the rows before it land', async () => {
  await createDataset(stack, customers('budget-count'));
  const { job } = await ingest(stack, 'budget-count', 'mixed-errors.csv', fixture('mixed-errors.csv'), { fields: { maxErrors: '2' } });
  expect(job.status).toBe('failed');
  expect(job.error).toEqual({
    code: 'threshold_exceeded',
    message: 'stopped at row 8 (line 9): more than 2 rejected rows (maxErrors)',
    line: 9,
  });
  expect(job.counts).toEqual({ rows: 7, valid: 5, invalid: 2, inserted: 5, updated: 0, unchanged: 0 });
  expect(await customerRecords(stack, 'budget-count')).toEqual(FIRST_ROWS);
  expect((await validationErrorRows(stack, job.id)).map((e) => [e.row_number, e.line])).toEqual([
    [3, 4],
    [5, 6],
  ]);
});

test('a budget the file stays within: the job completes with its rejected rows reported', async () => {
  await createDataset(stack, customers('budget-within', { maxErrors: 4 }));
  const { job } = await ingest(stack, 'budget-within', 'mixed-errors.csv', fixture('mixed-errors.csv'));
  expect(job.status).toBe('completed');
  expect(job.counts).toMatchObject({ rows: 10, valid: 6, invalid: 4 });
  expect((await customerRecords(stack, 'budget-within')).map((r) => r.customer_id)).toEqual([30, 31, 33, 35, 36, 39]);
});

test('maxErrorRate (from the dataset): 4 of 10 rows is past 0.25, judged at the end of the file', async () => {
  await createDataset(stack, customers('budget-rate', { maxErrorRate: 0.25 }));
  const { job } = await ingest(stack, 'budget-rate', 'mixed-errors.csv', fixture('mixed-errors.csv'));
  expect(job.status).toBe('failed');
  expect(job.error).toEqual({
    code: 'threshold_exceeded',
    message: 'stopped at the end of the file: 4 of 10 rows rejected (40%), more than maxErrorRate 0.25',
    line: null,
  });
  expect(job.counts).toMatchObject({ rows: 10, valid: 6, invalid: 4 });
});

test('atomic=true past its budget: no row of the file becomes visible; the counts and rejected rows say why', async () => {
  await createDataset(stack, customers('budget-atomic'));
  const { job } = await ingest(stack, 'budget-atomic', 'mixed-errors.csv', fixture('mixed-errors.csv'), {
    fields: { maxErrors: '2', atomic: 'true' },
  });
  expect(job.status).toBe('failed');
  expect(job.error).toMatchObject({ code: 'threshold_exceeded', line: 9 });
  expect(job.counts).toEqual({ rows: 7, valid: 5, invalid: 2, inserted: 0, updated: 0, unchanged: 0 });
  expect(await recordRows(stack, 'budget-atomic')).toEqual([]);
  expect((await validationErrorRows(stack, job.id)).map((e) => e.row_number)).toEqual([3, 5]);

  // Retried by API it fails the same way: counters are set, not added, and rejected rows are not doubled.
  const retried = await request(stack, 'POST', `/jobs/${job.id}/retry`);
  expect(retried.status).toBe(202);
  const again = await waitForJob(stack, job.id);
  expect({ status: again.status, attempts: again.attempts, counts: again.counts }).toEqual({
    status: 'failed',
    attempts: 2,
    counts: job.counts,
  });
  expect(await recordRows(stack, 'budget-atomic')).toEqual([]);
  expect((await validationErrorRows(stack, job.id)).map((e) => e.row_number)).toEqual([3, 5]);
});

test('atomic=true within its budget: the whole file lands at once, counted once', async () => {
  await createDataset(stack, customers('budget-atomic-ok', { atomic: true }));
  const { job } = await ingest(stack, 'budget-atomic-ok', 'mixed-errors.csv', fixture('mixed-errors.csv'));
  expect(job.status).toBe('completed');
  expect(job.counts).toEqual({ rows: 10, valid: 6, invalid: 4, inserted: 6, updated: 0, unchanged: 0 });
  expect((await customerRecords(stack, 'budget-atomic-ok')).map((r) => r.customer_id)).toEqual([30, 31, 33, 35, 36, 39]);
  expect((await validationErrorRows(stack, job.id)).map((e) => e.row_number)).toEqual([3, 5, 8, 9]);

  // The same file again changes nothing.
  const { job: second } = await ingest(stack, 'budget-atomic-ok', 'mixed-errors.csv', fixture('mixed-errors.csv'));
  expect(second.counts).toEqual({ rows: 10, valid: 6, invalid: 4, inserted: 0, updated: 0, unchanged: 6 });
});

test('fix and retry: the errors download of a German export, corrected and uploaded again, lands those rows and leaves the others alone', async () => {
  await createDataset(stack, customers('budget-fix', { decimal: ',' }, { aliases: true }));
  const original =
    'Kundennr;Name;Betrag;Seit\n50;Erste;1.000,00;01.02.2024\n51;Zweite;zwölf;02.02.2024\n52;Dritte;3,5;31.02.2024\n53;Vierte;4;04.02.2024\n';
  const { job } = await ingest(stack, 'budget-fix', 'export.csv', original);
  expect(job.counts).toMatchObject({ rows: 4, valid: 2, invalid: 2 });
  const before = await recordRows(stack, 'budget-fix');

  const downloaded = (await request(stack, 'GET', `/jobs/${job.id}/errors?format=csv`)).text;
  expect(downloaded.split('\r\n')[0]).toBe('Kundennr,Name,Betrag,Seit,error');
  const fixed = downloaded.replace('zwölf', '"12,00"').replace('31.02.2024', '29.02.2024');
  const { job: retry } = await ingest(stack, 'budget-fix', 'export-errors-fixed.csv', fixed);
  expect(retry.status).toBe('completed');
  expect(retry.counts).toEqual({ rows: 2, valid: 2, invalid: 0, inserted: 2, updated: 0, unchanged: 0 });
  expect((await getJson(stack, `/jobs/${retry.id}/errors`)).body).toEqual({ items: [], nextCursor: null });

  expect(await customerRecords(stack, 'budget-fix')).toEqual([
    { customer_id: 50, name: 'Erste', amount: 1000, since: '2024-02-01' },
    { customer_id: 51, name: 'Zweite', amount: 12, since: '2024-02-02' },
    { customer_id: 52, name: 'Dritte', amount: 3.5, since: '2024-02-29' },
    { customer_id: 53, name: 'Vierte', amount: 4, since: '2024-02-04' },
  ]);
  const after = await recordRows(stack, 'budget-fix');
  expect(after.filter((r) => before.some((b) => b.id === r.id))).toEqual(before);
});
