import { startTestStack, type TestStack } from '../helpers/stack.js';
import { customerRecords, customers, fixture } from './files-support.js';
import { createDataset, ingest, validationErrorRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

test('.xlsx: the first sheet through the same pipeline; date cells (Excel serials) become ISO dates', async () => {
  await createDataset(stack, customers('xlsx-first'));
  const { job } = await ingest(stack, 'xlsx-first', 'dates.xlsx', fixture('dates.xlsx'));
  expect(job.status).toBe('completed');
  expect(job.file).toMatchObject({ name: 'dates.xlsx', format: 'xlsx' });
  expect(job.reading).toMatchObject({ sheet: 'Customers', header: true });
  expect(job.counts).toMatchObject({ rows: 3, valid: 2, invalid: 1 });
  expect(await customerRecords(stack, 'xlsx-first')).toEqual([
    { customer_id: 40, name: 'Excel Erika', amount: 19.99, since: '2024-03-07' },
    { customer_id: 41, name: 'Excel Emil', amount: 5, since: '1999-12-31' },
  ]);
  expect(await validationErrorRows(stack, job.id)).toEqual([
    {
      row_number: 3,
      line: 4,
      line_end: 4,
      raw: '42,Bad Date,1,not a date',
      errors: [{ field: 'since', message: 'must be a date like 2024-03-31, got "not a date"' }],
    },
  ]);
});

test('.xlsx with sheet=Archive reads that sheet by name', async () => {
  await createDataset(stack, customers('xlsx-sheet'));
  const { job } = await ingest(stack, 'xlsx-sheet', 'dates.xlsx', fixture('dates.xlsx'), { fields: { sheet: 'Archive' } });
  expect(job.reading).toMatchObject({ sheet: 'Archive' });
  expect(await customerRecords(stack, 'xlsx-sheet')).toEqual([{ customer_id: 43, name: 'Archived Anna', since: '2010-01-15' }]);
});

test('.xlsx with a sheet it does not have fails, naming the sheets it has', async () => {
  await createDataset(stack, customers('xlsx-nosheet'));
  const { job } = await ingest(stack, 'xlsx-nosheet', 'dates.xlsx', fixture('dates.xlsx'), { fields: { sheet: 'Missing' } });
  expect(job.status).toBe('failed');
  expect(job.error).toMatchObject({
    code: 'parse_error',
    message: 'the workbook has no sheet named "Missing"; it has "Customers", "Archive"',
  });
  expect(await customerRecords(stack, 'xlsx-nosheet')).toEqual([]);
});
