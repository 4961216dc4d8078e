import { startTestStack, type TestStack } from '../helpers/stack.js';
import { customerRecords, customers, fixture, traces } from './files-support.js';
import { createDataset, ingest, uploadParts, validationErrorRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

test('Excel "CSV UTF-8": the BOM is not part of the first header, which maps to the key field', async () => {
  await createDataset(stack, customers('enc-bom'));
  const { job } = await ingest(stack, 'enc-bom', 'excel-utf8-bom.csv', fixture('excel-utf8-bom.csv'));
  expect(job.status).toBe('completed');
  expect(job.reading).toMatchObject({
    encoding: 'utf-8',
    bom: true,
    encodingBy: 'bom',
    delimiter: ',',
    delimiterBy: 'detected',
    header: true,
  });
  expect((job.reading as { columns: unknown[] }).columns[0]).toEqual({ column: 'customer_id', field: 'customer_id', action: 'field' });
  expect(await customerRecords(stack, 'enc-bom')).toEqual([
    { customer_id: 1, name: 'Zoë Ørsted', city: 'Århus', amount: 10.5, since: '2024-03-07' },
    { customer_id: 2, name: 'Jürgen Weiß', city: 'München', amount: 1200, since: '2023-12-31' },
  ]);
});

test('UTF-16LE with a BOM (Excel "Unicode Text", tab-separated): decoded, not refused for its NUL bytes', async () => {
  await createDataset(stack, customers('enc-utf16'));
  const { job } = await ingest(stack, 'enc-utf16', 'utf16le.txt', fixture('utf16le.txt'));
  expect(job.status).toBe('completed');
  expect(job.reading).toMatchObject({ encoding: 'utf-16le', bom: true, encodingBy: 'bom', delimiter: '\t' });
  expect(await customerRecords(stack, 'enc-utf16')).toEqual([
    { customer_id: 3, name: 'Łukasz Żółć', city: 'Kraków' },
    { customer_id: 4, name: '李雷', city: '北京' },
  ]);
});

test('Windows-1252 with umlauts, ß and €: detected from the bytes, semicolons detected too', async () => {
  await createDataset(stack, customers('enc-1252'));
  const { job } = await ingest(stack, 'enc-1252', 'windows-1252.csv', fixture('windows-1252.csv'));
  expect(job.status).toBe('completed');
  expect(job.reading).toMatchObject({
    encoding: 'windows-1252',
    bom: false,
    encodingBy: 'detected',
    delimiter: ';',
    delimiterBy: 'detected',
  });
  expect(await customerRecords(stack, 'enc-1252')).toEqual([
    { customer_id: 5, name: 'Müller & Söhne', city: 'Köln' },
    { customer_id: 6, name: 'Café € Straße', city: 'Düsseldorf' },
  ]);
});

test('encoding=iso-8859-1 overrides detection: each byte is its own code point', async () => {
  await createDataset(stack, customers('enc-latin1'));
  const { job } = await ingest(
    stack,
    'enc-latin1',
    'latin1.csv',
    Uint8Array.from([...Buffer.from('customer_id,name\n7,Ren'), 0xe9, 0x0a]),
    {
      fields: { encoding: 'iso-8859-1' },
    },
  );
  expect(job.reading).toMatchObject({ encoding: 'iso-8859-1', encodingBy: 'declared' });
  expect(job.options).toEqual({ encoding: 'iso-8859-1' });
  expect(await customerRecords(stack, 'enc-latin1')).toEqual([{ customer_id: 7, name: 'René' }]);
});

test('invalid bytes in a declared UTF-8 file fail the row they are in, not the job', async () => {
  await createDataset(stack, customers('enc-bad-utf8'));
  const bytes = Uint8Array.from([...Buffer.from('customer_id,name\n8,Good\n9,Ba'), 0xff, 0xfe, ...Buffer.from('d\n10,Also good\n')]);
  const { job } = await ingest(stack, 'enc-bad-utf8', 'bad.csv', bytes, { fields: { encoding: 'utf-8' } });
  expect(job.status).toBe('completed');
  expect(job.counts).toEqual({ rows: 3, valid: 2, invalid: 1, inserted: 2, updated: 0, unchanged: 0 });
  expect(await customerRecords(stack, 'enc-bad-utf8')).toEqual([
    { customer_id: 8, name: 'Good' },
    { customer_id: 10, name: 'Also good' },
  ]);
  expect(await validationErrorRows(stack, job.id)).toEqual([
    {
      row_number: 2,
      line: 3,
      line_end: 3,
      raw: '9,Ba\uFFFD\uFFFDd',
      errors: [{ field: null, message: 'row has bytes that are not valid UTF-8 (shown as \uFFFD)' }],
    },
  ]);
});

test('an unknown encoding is refused with 400 and nothing is stored', async () => {
  await createDataset(stack, customers('enc-unknown'));
  const before = await traces(stack, 'enc-unknown');
  const res = await uploadParts(stack, [
    { name: 'dataset', value: 'enc-unknown' },
    { name: 'encoding', value: 'ebcdic' },
    { name: 'file', file: 'customer_id\n1\n', fileName: 'x.csv' },
  ]);
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(res.body.error.message).toContain('encoding');
  expect(await traces(stack, 'enc-unknown')).toEqual({ jobs: 0, records: 0, files: before.files });
});
