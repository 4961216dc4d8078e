import { startTestStack, type TestStack } from '../helpers/stack.js';
import { customerRecords, customers, fixture } from './files-support.js';
import { countRows, createDataset, ingest } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

test('header=false: columns in the dataset field order, the first line is a row', async () => {
  await createDataset(stack, customers('hdr-none'));
  const { job } = await ingest(stack, 'hdr-none', 'headerless.csv', fixture('headerless.csv'), { fields: { header: 'false' } });
  expect(job.status).toBe('completed');
  expect(job.reading).toMatchObject({ header: false });
  expect(job.counts).toMatchObject({ rows: 2, valid: 2, invalid: 0 });
  expect(await customerRecords(stack, 'hdr-none')).toEqual([
    { customer_id: 18, name: 'Headless One', city: 'Oslo', amount: 5.5, since: '2024-01-02' },
    { customer_id: 19, name: 'Headless Two', city: 'Bergen' },
  ]);
});

test('the same file with a header expected fails at once: its first row is no header', async () => {
  await createDataset(stack, customers('hdr-none-missed'));
  const { job } = await ingest(stack, 'hdr-none-missed', 'headerless.csv', fixture('headerless.csv'));
  expect(job.status).toBe('failed');
  expect(job.error).toMatchObject({ code: 'header_mismatch' });
  expect(await customerRecords(stack, 'hdr-none-missed')).toEqual([]);
});

test('a missing required column fails the job before any row is written, naming it', async () => {
  await createDataset(stack, customers('hdr-missing'));
  const errorsBefore = await countRows(stack, 'validation_errors');
  const { job } = await ingest(stack, 'hdr-missing', 'missing-column.csv', fixture('missing-column.csv'));
  expect(job.status).toBe('failed');
  expect(job.error).toEqual({
    code: 'header_mismatch',
    message: 'the header does not fit the dataset: missing required column "customer_id"',
    line: 1,
  });
  expect(job.counts).toMatchObject({ rows: 0 });
  expect(await customerRecords(stack, 'hdr-missing')).toEqual([]);
  expect(await countRows(stack, 'validation_errors')).toBe(errorsBefore);
});

test('two columns feeding one field fail the job, listing both', async () => {
  await createDataset(stack, customers('hdr-duplicate'));
  const { job } = await ingest(stack, 'hdr-duplicate', 'duplicate-columns.csv', fixture('duplicate-columns.csv'));
  expect(job.status).toBe('failed');
  expect(job.error).toEqual({
    code: 'header_mismatch',
    message: 'the header does not fit the dataset: columns "name", "Name" all feed field "name"',
    line: 1,
  });
  expect(await customerRecords(stack, 'hdr-duplicate')).toEqual([]);
});

test('unknown columns, unknownColumns "ignore" (the default): left out, and the job says so', async () => {
  await createDataset(stack, customers('hdr-ignore'));
  const { job } = await ingest(stack, 'hdr-ignore', 'unknown-columns.csv', fixture('unknown-columns.csv'));
  expect(job.status).toBe('completed');
  expect((job.reading as { columns: unknown }).columns).toEqual([
    { column: 'customer_id', field: 'customer_id', action: 'field' },
    { column: 'name', field: 'name', action: 'field' },
    { column: 'loyalty_tier', field: null, action: 'ignored' },
    { column: 'city', field: 'city', action: 'field' },
    { column: 'Notes', field: null, action: 'ignored' },
  ]);
  expect(await customerRecords(stack, 'hdr-ignore')).toEqual([
    { customer_id: 21, name: 'Ursula', city: 'Bern' },
    { customer_id: 22, name: 'Viktor', city: 'Basel' },
  ]);
});

test('unknown columns, unknownColumns "keep": stored in the record under their own names, empty ones left out', async () => {
  await createDataset(stack, customers('hdr-keep', { unknownColumns: 'keep' }));
  const { job } = await ingest(stack, 'hdr-keep', 'unknown-columns.csv', fixture('unknown-columns.csv'));
  expect(job.status).toBe('completed');
  expect((job.reading as { columns: Array<{ action: string }> }).columns.map((c) => c.action)).toEqual([
    'field',
    'field',
    'kept',
    'field',
    'kept',
  ]);
  expect(await customerRecords(stack, 'hdr-keep')).toEqual([
    { customer_id: 21, name: 'Ursula', city: 'Bern', loyalty_tier: 'gold', Notes: 'likes "tea"' },
    { customer_id: 22, name: 'Viktor', city: 'Basel' },
  ]);
});

test('unknown columns, unknownColumns "reject": the job fails at once, listing them', async () => {
  await createDataset(stack, customers('hdr-reject', { unknownColumns: 'reject' }));
  const { job } = await ingest(stack, 'hdr-reject', 'unknown-columns.csv', fixture('unknown-columns.csv'));
  expect(job.status).toBe('failed');
  expect(job.error).toEqual({
    code: 'header_mismatch',
    message: 'the header does not fit the dataset: unknown columns "loyalty_tier", "Notes" (the dataset rejects unknown columns)',
    line: 1,
  });
  expect(await customerRecords(stack, 'hdr-reject')).toEqual([]);
});

test('the upload overrides the dataset: unknownColumns=ignore on a rejecting dataset lands the file', async () => {
  await createDataset(stack, customers('hdr-override', { unknownColumns: 'reject' }));
  const { job } = await ingest(stack, 'hdr-override', 'unknown-columns.csv', fixture('unknown-columns.csv'), {
    fields: { unknownColumns: 'ignore' },
  });
  expect(job.status).toBe('completed');
  expect((await customerRecords(stack, 'hdr-override')).length).toBe(2);
});

test('NDJSON with unknownColumns "reject": a row with an unknown property is rejected, the rest land', async () => {
  await createDataset(stack, customers('hdr-json-reject', { unknownColumns: 'reject' }));
  const { job } = await ingest(stack, 'hdr-json-reject', 'x.ndjson', '{"customer_id":1,"name":"A"}\n{"customer_id":2,"nickname":"B"}\n');
  expect(job.counts).toMatchObject({ rows: 2, valid: 1, invalid: 1 });
  expect(await customerRecords(stack, 'hdr-json-reject')).toEqual([{ customer_id: 1, name: 'A' }]);
});
