import { startTestStack, type TestStack } from '../helpers/stack.js';
import { customerRecords, customers, fixture } from './files-support.js';
import { createDataset, ingest, validationErrorRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

test('semicolons and decimal commas (the dataset says decimal ","): 1.234,56 is 1234.56, German headers by alias', async () => {
  await createDataset(stack, customers('delim-de', { decimal: ',' }, { aliases: true }));
  const { job } = await ingest(stack, 'delim-de', 'semicolon-decimal-comma.csv', fixture('semicolon-decimal-comma.csv'));
  expect(job.status).toBe('completed');
  expect(job.reading).toMatchObject({ delimiter: ';', delimiterBy: 'detected', decimal: ',' });
  expect((job.reading as { columns: unknown }).columns).toEqual([
    { column: 'Kundennr', field: 'customer_id', action: 'field' },
    { column: 'Name', field: 'name', action: 'field' },
    { column: 'Betrag', field: 'amount', action: 'field' },
    { column: 'Seit', field: 'since', action: 'field' },
  ]);
  expect(await customerRecords(stack, 'delim-de')).toEqual([
    { customer_id: 7, name: 'Anna Schmidt', amount: 1234.56, since: '2024-03-07' },
    { customer_id: 8, name: 'Bernd Bauer', amount: -0.5, since: '2023-12-31' },
    { customer_id: 9, name: 'Clara Vogel', amount: 12, since: '2024-01-01' },
  ]);
});

test('decimal="," on the upload overrides a dataset without one', async () => {
  await createDataset(stack, customers('delim-de-upload', {}, { aliases: true }));
  const { job } = await ingest(stack, 'delim-de-upload', 'export.csv', fixture('semicolon-decimal-comma.csv'), {
    fields: { decimal: ',' },
  });
  expect(job.counts).toMatchObject({ rows: 3, valid: 3, invalid: 0 });
  expect((await customerRecords(stack, 'delim-de-upload')).map((r) => r.amount)).toEqual([1234.56, -0.5, 12]);
});

test('without decimal ",", 1.234,56 is not a number: the row is rejected, the others land', async () => {
  await createDataset(stack, customers('delim-de-point', {}, { aliases: true }));
  const { job } = await ingest(stack, 'delim-de-point', 'export.csv', fixture('semicolon-decimal-comma.csv'));
  expect(job.counts).toMatchObject({ rows: 3, valid: 1, invalid: 2 });
  expect(await customerRecords(stack, 'delim-de-point')).toEqual([
    { customer_id: 9, name: 'Clara Vogel', amount: 12, since: '2024-01-01' },
  ]);
});

test('tab-separated: commas inside values are text', async () => {
  await createDataset(stack, customers('delim-tab'));
  const { job } = await ingest(stack, 'delim-tab', 'tab-separated.tsv', fixture('tab-separated.tsv'));
  expect(job.reading).toMatchObject({ delimiter: '\t', delimiterBy: 'detected' });
  expect(await customerRecords(stack, 'delim-tab')).toEqual([
    { customer_id: 10, name: 'Tab, With Comma', city: 'Lyon', amount: 1.5 },
    { customer_id: 11, name: 'Second', city: 'Nice', amount: 2 },
  ]);
});

test('pipe-separated: commas and semicolons inside values are text', async () => {
  await createDataset(stack, customers('delim-pipe'));
  const { job } = await ingest(stack, 'delim-pipe', 'pipe-separated.txt', fixture('pipe-separated.txt'));
  expect(job.reading).toMatchObject({ delimiter: '|', delimiterBy: 'detected' });
  expect(await customerRecords(stack, 'delim-pipe')).toEqual([
    { customer_id: 12, name: 'Pipe; One', city: 'Porto' },
    { customer_id: 13, name: 'Pipe, Two', city: 'Faro' },
  ]);
});

test('delimiter=";" overrides detection (here the sniff would pick the comma)', async () => {
  await createDataset(stack, customers('delim-declared'));
  const { job } = await ingest(stack, 'delim-declared', 'x.csv', 'customer_id;name\n1;Smith, John\n2;Doe, Jane\n', {
    fields: { delimiter: 'semicolon' },
  });
  expect(job.reading).toMatchObject({ delimiter: ';', delimiterBy: 'declared' });
  expect(await customerRecords(stack, 'delim-declared')).toEqual([
    { customer_id: 1, name: 'Smith, John' },
    { customer_id: 2, name: 'Doe, Jane' },
  ]);
});

test('quoted newlines with CRLF: values keep their line breaks, and an error names the physical lines of its row and its raw text', async () => {
  await createDataset(stack, customers('delim-quoted'));
  const { job } = await ingest(stack, 'delim-quoted', 'quoted-newlines-crlf.csv', fixture('quoted-newlines-crlf.csv'));
  expect(job.status).toBe('completed');
  expect(job.counts).toMatchObject({ rows: 4, valid: 3, invalid: 1 });
  expect(await customerRecords(stack, 'delim-quoted')).toEqual([
    { customer_id: 14, name: 'Smith, John', city: 'Line one\r\nLine two' },
    { customer_id: 15, name: 'Multi\r\nline\r\nname', city: 'Berlin' },
    { customer_id: 17, name: 'Plain', city: 'Rome' },
  ]);
  expect(await validationErrorRows(stack, job.id)).toEqual([
    {
      row_number: 3,
      line: 7,
      line_end: 8,
      raw: 'x16,"bad id\r\nspanning",Paris',
      errors: [{ field: 'customer_id', message: 'must be a whole number, got "x16"' }],
    },
  ]);
});

test('old Mac line ends (a lone CR) are line ends too', async () => {
  await createDataset(stack, customers('delim-cr'));
  const { job } = await ingest(stack, 'delim-cr', 'mac.csv', 'customer_id,name\r1,Classic\r2,Mac\r');
  expect(job.counts).toMatchObject({ rows: 2, valid: 2 });
  expect(await customerRecords(stack, 'delim-cr')).toEqual([
    { customer_id: 1, name: 'Classic' },
    { customer_id: 2, name: 'Mac' },
  ]);
});
