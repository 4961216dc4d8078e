import { gzipSync } from 'node:zlib';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { customerRecords, customers, traces } from './files-support.js';
import { createDataset, expectError, ingest, listFiles, uploadParts, type Part } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    MAX_DECOMPRESSED_BYTES: String(64 * 1024),
    MAX_LINE_CHARS: '4096',
    MAX_FIELD_CHARS: '100',
    MAX_COLUMNS: '10',
    MAX_JSON_DEPTH: '4',
  });
  await createDataset(stack, customers('safe'));
});
afterAll(async () => stack.close());

const file = (content: string | Uint8Array, fileName = 'x.csv', contentType = 'text/csv'): Part => ({
  name: 'file',
  file: content,
  fileName,
  contentType,
});
const dataset: Part = { name: 'dataset', value: 'safe' };

/** Sends the parts and asserts the status and code, and that nothing was stored: no job, no record, no file. */
async function refused(parts: Part[], status: number, code: string) {
  const before = await traces(stack, 'safe');
  const res = await uploadParts(stack, parts);
  const error = expectError(res, status, code);
  expect(await traces(stack, 'safe')).toEqual(before);
  return error;
}

describe('multipart limits', () => {
  test('a second file part is refused with 413', async () => {
    await refused([dataset, file('customer_id\n1\n'), file('customer_id\n2\n', 'y.csv')], 413, 'payload_too_large');
  });

  test('a field beyond the eleven an upload has (dataset, format, nine read options) is refused with 413', async () => {
    const options: Array<[string, string]> = [
      ['format', 'csv'],
      ['encoding', 'utf-8'],
      ['delimiter', ','],
      ['decimal', '.'],
      ['header', 'true'],
      ['sheet', 'Sheet1'],
      ['unknownColumns', 'ignore'],
      ['maxErrors', '1'],
      ['maxErrorRate', '0.5'],
      ['atomic', 'false'],
    ];
    const fields = options.map(([name, value]): Part => ({ name, value }));
    await refused([dataset, ...fields, { name: 'extra', value: 'x' }, file('customer_id\n1\n')], 413, 'payload_too_large');
  });

  test.each(['__proto__', 'constructor', 'prototype'])('a field named %s is refused with 400', async (name) => {
    const error = await refused([dataset, { name, value: '{"polluted":true}' }, file('customer_id\n1\n')], 400, 'bad_request');
    expect(error.message).toMatch(/prototype property is not allowed|unexpected field/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a field given twice is refused with 400', async () => {
    await refused(
      [dataset, { name: 'delimiter', value: ';' }, { name: 'delimiter', value: ',' }, file('customer_id\n1\n')],
      400,
      'bad_request',
    );
  });

  test('a bad read option is refused with 400 validation_failed, naming it', async () => {
    const error = await refused([dataset, { name: 'maxErrorRate', value: '1.5' }, file('customer_id\n1\n')], 400, 'validation_failed');
    expect(error.message).toContain('maxErrorRate');
  });
});

describe('file names are metadata, never paths', () => {
  test.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\eve\\..\\report.csv', 'report.csv'],
    ['bad\u0000name\u0007.csv', 'badname.csv'],
    [`${'n'.repeat(300)}.csv`, 'n'.repeat(255)],
  ])('%j is kept as %j; the file is stored under a generated key', async (given, kept) => {
    const res = await uploadParts(stack, [dataset, { name: 'format', value: 'csv' }, file('customer_id\n1\n', given)]);
    expect(res.status).toBe(202);
    expect(res.body.file.name).toBe(kept);
    const files = await listFiles(stack.storageDir);
    expect(files).toContain(`${stack.tenantId}/${res.body.id as string}`);
  });
});

describe('content is judged by its first bytes, whatever the name and type say', () => {
  const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const ZIP = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0]);
  const PDF = new TextEncoder().encode('%PDF-1.7\n%âãÏÓ\n1 0 obj\n');
  const ELF = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]);

  test.each([
    ['a PNG named .csv', PNG, 'the file is a PNG image'],
    ['a ZIP named .csv', ZIP, 'the file is a ZIP archive'],
    ['a PDF named .csv', PDF, 'the file is a PDF document'],
    ['an ELF binary named .csv', ELF, 'the file is an ELF executable'],
    ['text with NUL bytes', new TextEncoder().encode('customer_id\n1\u0000\u0000\u0000\n'), 'the file has NUL bytes'],
  ])('%s is refused with 415', async (_what, bytes, message) => {
    const error = await refused([dataset, file(bytes, 'customers.csv', 'text/csv')], 415, 'unsupported_media_type');
    expect(error.message).toContain(message);
  });

  test('an .xlsx that is not a ZIP is refused with 415', async () => {
    await refused(
      [dataset, file('customer_id\n1\n', 'book.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')],
      415,
      'unsupported_media_type',
    );
  });
});

describe('gzip', () => {
  test.each([
    ['x.csv.gz', 'application/gzip', 'customer_id,name\n60,Gzip CSV\n'],
    ['x.ndjson.gz', 'application/octet-stream', '{"customer_id":61,"name":"Gzip NDJSON"}\n'],
  ])('%s (%s) is unpacked while streaming', async (name, type, content) => {
    await createDataset(stack, customers(`gz-${name.split('.')[1]!}`));
    const { job } = await ingest(stack, `gz-${name.split('.')[1]!}`, name, gzipSync(content), { contentType: type });
    expect(job.status).toBe('completed');
    expect(job.reading).toMatchObject({ compression: 'gzip' });
    expect((await customerRecords(stack, `gz-${name.split('.')[1]!}`)).map((r) => r.name)).toEqual([
      name.endsWith('csv.gz') ? 'Gzip CSV' : 'Gzip NDJSON',
    ]);
  });

  test('a gzip bomb stops at MAX_DECOMPRESSED_BYTES with limit_exceeded; only the small compressed file is on disk', async () => {
    await createDataset(stack, customers('gz-bomb'));
    const bomb = gzipSync(`customer_id,name\n${'1,a\n'.repeat(4 * 1024 * 1024)}`);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const { job } = await ingest(stack, 'gz-bomb', 'bomb.csv.gz', bomb);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({
      code: 'limit_exceeded',
      message: 'the file unpacks to more than 65536 bytes (MAX_DECOMPRESSED_BYTES); stopped there',
    });
    expect(job.file).toMatchObject({ sizeBytes: bomb.length });
  });

  test('a gzip that unpacks to a PNG fails with unsupported_media_type', async () => {
    await createDataset(stack, customers('gz-png'));
    const { job } = await ingest(
      stack,
      'gz-png',
      'x.csv.gz',
      gzipSync(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])),
    );
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'unsupported_media_type' });
    expect(await customerRecords(stack, 'gz-png')).toEqual([]);
  });
});

describe('limits on what a file holds', () => {
  test('a line longer than MAX_LINE_CHARS fails the job at that line; rows before it land', async () => {
    await createDataset(stack, customers('lim-line'));
    const { job } = await ingest(stack, 'lim-line', 'x.csv', `customer_id,name\n70,ok\n71,"${'x'.repeat(5000)}\n`);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'parse_error', line: 3 });
    expect(await customerRecords(stack, 'lim-line')).toEqual([{ customer_id: 70, name: 'ok' }]);
  });

  test('a value longer than MAX_FIELD_CHARS fails its row', async () => {
    await createDataset(stack, customers('lim-field'));
    const { job } = await ingest(stack, 'lim-field', 'x.csv', `customer_id,name\n72,${'y'.repeat(101)}\n73,short\n`);
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ rows: 2, valid: 1, invalid: 1 });
    expect(await customerRecords(stack, 'lim-field')).toEqual([{ customer_id: 73, name: 'short' }]);
  });

  test('a header with more than MAX_COLUMNS columns fails the job', async () => {
    await createDataset(stack, customers('lim-cols'));
    const header = ['customer_id', ...Array.from({ length: 10 }, (_, i) => `c${i}`)].join(',');
    const { job } = await ingest(stack, 'lim-cols', 'x.csv', `${header}\n74${',v'.repeat(10)}\n`);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({
      code: 'limit_exceeded',
      message: 'the file has 11 columns; at most 10 are allowed (MAX_COLUMNS)',
      line: 1,
    });
    expect(await customerRecords(stack, 'lim-cols')).toEqual([]);
  });

  test('JSON nested deeper than MAX_JSON_DEPTH fails its row', async () => {
    await createDataset(stack, customers('lim-depth'));
    const deep = '{"customer_id":75,"name":{"a":{"b":{"c":{"d":1}}}}}';
    const { job } = await ingest(stack, 'lim-depth', 'x.ndjson', `${deep}\n{"customer_id":76,"name":"flat"}\n`);
    expect(job.counts).toMatchObject({ rows: 2, valid: 1, invalid: 1 });
    expect(await customerRecords(stack, 'lim-depth')).toEqual([{ customer_id: 76, name: 'flat' }]);
  });
});
