import { getJson, startTestStack, type TestStack } from '../helpers/stack.js';
import { bySortKey, createDataset, ingest, ISO_RE, recordData, recordRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

/** A dataset with one field of every type, so each normal form shows. */
function typed(name: string) {
  return {
    name,
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'name', type: 'string' },
      { name: 'qty', type: 'integer' },
      { name: 'amount', type: 'number' },
      { name: 'active', type: 'boolean' },
      { name: 'signup_date', type: 'date' },
      { name: 'seen_at', type: 'datetime' },
      { name: 'country', type: 'enum', values: ['DE', 'FR', 'US'] },
    ],
  };
}

/** A dataset whose fields every row of the format tests gives. */
function small(name: string) {
  return { name, key: ['email'], fields: [{ name: 'email', type: 'email', required: true }, { name: 'qty', type: 'integer' }] };
}

const ALL_VALID = (rows: number) => ({ rows, valid: rows, invalid: 0, inserted: rows, updated: 0, unchanged: 0 });

/** GET /records of a dataset: the items' data in id order, after checking each item's shape. */
async function apiRecords(dataset: string, jobId: string) {
  const res = await getJson(stack, `/records?dataset=${dataset}`);
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  for (const item of res.body.items) {
    expect(item).toEqual({
      id: expect.stringMatching(/^\d+$/),
      dataset,
      data: expect.any(Object),
      jobId,
      createdAt: expect.stringMatching(ISO_RE),
      updatedAt: expect.stringMatching(ISO_RE),
    });
  }
  const ids = (res.body.items as Array<{ id: string }>).map((i) => Number(i.id));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(ids).toEqual((await recordRows(stack, dataset)).map((r) => r.id));
  return bySortKey((res.body.items as Array<{ data: Record<string, unknown> }>).map((i) => i.data));
}

test('CSV (by extension): headers mapped case-insensitively, values trimmed and normalized, empty cells absent', async () => {
  await createDataset(stack, typed('typed-csv'));
  const csv = [
    'EMAIL, Name ,QTY,Amount,active,Signup_Date,seen_at,country',
    '  Ann@Example.COM  ,  Ann Smith  , 3 ,10.50,YES,2024/3/7,2024-03-07 09:30:00+01:00,de',
    'bob@example.com,Bob,0,-2.5e1,no,07.03.2024,2024-03-07T09:30Z,FR',
    'carl@example.com,,, ,,,,',
  ].join('\n');
  const { job } = await ingest(stack, 'typed-csv', 'people.csv', csv);
  expect(job.status).toBe('completed');
  expect(job.file).toEqual(expect.objectContaining({ name: 'people.csv', format: 'csv' }));
  expect(job.counts).toEqual(ALL_VALID(3));

  const expected = [
    { email: 'ann@example.com', name: 'Ann Smith', qty: 3, amount: 10.5, active: true, signup_date: '2024-03-07', seen_at: '2024-03-07T08:30:00.000Z', country: 'DE' },
    { email: 'bob@example.com', name: 'Bob', qty: 0, amount: -25, active: false, signup_date: '2024-03-07', seen_at: '2024-03-07T09:30:00.000Z', country: 'FR' },
    { email: 'carl@example.com' },
  ];
  expect(await recordData(stack, 'typed-csv')).toEqual(expected);
  expect(await apiRecords('typed-csv', job.id)).toEqual(expected);
});

test('JSON array (by extension): JSON numbers and booleans and their text forms both land typed', async () => {
  await createDataset(stack, typed('typed-json'));
  const json = `[
  {"Email": " Dana@Example.com ", "name": " Dana ", "qty": 7, "amount": "3.25", "active": true, "signup_date": "2024-02-29", "seen_at": "2024-02-29T23:59:59.5-02:00", "country": "us"},
  {"email": "eli@example.com", "name": null, "qty": "12", "amount": 0, "active": "0", "signup_date": "2023-12-31", "seen_at": "", "country": null, "unknown_column": "ignored"}
]`;
  const { job } = await ingest(stack, 'typed-json', 'export.JSON', json);
  expect(job.status).toBe('completed');
  expect(job.file).toEqual(expect.objectContaining({ name: 'export.JSON', format: 'json' }));
  expect(job.counts).toEqual(ALL_VALID(2));

  const expected = [
    { email: 'dana@example.com', name: 'Dana', qty: 7, amount: 3.25, active: true, signup_date: '2024-02-29', seen_at: '2024-03-01T01:59:59.500Z', country: 'US' },
    { email: 'eli@example.com', qty: 12, amount: 0, active: false, signup_date: '2023-12-31' },
  ];
  expect(await recordData(stack, 'typed-json')).toEqual(expected);
  expect(await apiRecords('typed-json', job.id)).toEqual(expected);
});

test('NDJSON (by extension): one object per line, blank lines skipped, CRLF line ends', async () => {
  await createDataset(stack, typed('typed-ndjson'));
  const ndjson = [
    '{"email":"FAY@EXAMPLE.COM","name":"Fay","qty":"1","amount":null,"active":"on","signup_date":null,"seen_at":null,"country":null}',
    '',
    '{"email":"gus@example.com","name":"","qty":null,"amount":1e3,"country":"FR","active":"off","signup_date":"2024/12/1","seen_at":"2024-12-01T00:00:00+00:00"}',
    '',
  ].join('\r\n');
  const { job } = await ingest(stack, 'typed-ndjson', 'feed.ndjson', ndjson);
  expect(job.status).toBe('completed');
  expect(job.file).toEqual(expect.objectContaining({ name: 'feed.ndjson', format: 'ndjson' }));
  expect(job.counts).toEqual(ALL_VALID(2));

  const expected = [
    { email: 'fay@example.com', name: 'Fay', qty: 1, active: true },
    { email: 'gus@example.com', amount: 1000, country: 'FR', active: false, signup_date: '2024-12-01', seen_at: '2024-12-01T00:00:00.000Z' },
  ];
  expect(await recordData(stack, 'typed-ndjson')).toEqual(expected);
  expect(await apiRecords('typed-ndjson', job.id)).toEqual(expected);
});

test('.jsonl is NDJSON too', async () => {
  await createDataset(stack, small('small-jsonl'));
  const { job } = await ingest(stack, 'small-jsonl', 'feed.jsonl', '{"email":"hal@example.com","qty":1}\n{"email":"ida@example.com","qty":2}\n');
  expect(job.file).toEqual(expect.objectContaining({ format: 'ndjson' }));
  expect(job.counts).toEqual(ALL_VALID(2));
  expect(await recordData(stack, 'small-jsonl')).toEqual([
    { email: 'hal@example.com', qty: 1 },
    { email: 'ida@example.com', qty: 2 },
  ]);
});

test('the format field wins over the extension and the content type', async () => {
  await createDataset(stack, small('small-declared'));
  // Named .json and sent as application/json, but it is NDJSON, and says so.
  const ndjson = '{"email":"jo@example.com","qty":2}\n{"email":"kim@example.com","qty":3}\n';
  const { job } = await ingest(stack, 'small-declared', 'data.json', ndjson, { fields: { format: 'ndjson' }, contentType: 'application/json' });
  expect(job.status).toBe('completed');
  expect(job.file).toEqual(expect.objectContaining({ name: 'data.json', format: 'ndjson' }));
  expect(job.counts).toEqual(ALL_VALID(2));
  expect(await recordData(stack, 'small-declared')).toEqual([
    { email: 'jo@example.com', qty: 2 },
    { email: 'kim@example.com', qty: 3 },
  ]);
});

test('the extension wins over the content type', async () => {
  await createDataset(stack, small('small-ext'));
  const { job } = await ingest(stack, 'small-ext', 'rows.csv', 'email,qty\nlee@example.com,4\n', { contentType: 'application/json' });
  expect(job.file).toEqual(expect.objectContaining({ format: 'csv' }));
  expect(job.counts).toEqual(ALL_VALID(1));
  expect(await recordData(stack, 'small-ext')).toEqual([{ email: 'lee@example.com', qty: 4 }]);
});

test.each([
  ['text/csv', 'csv', 'email,qty\nmia@example.com,5\nned@example.com,6\n'],
  ['application/json', 'json', '[{"email":"mia@example.com","qty":5},{"email":"ned@example.com","qty":6}]'],
  ['application/x-ndjson', 'ndjson', '{"email":"mia@example.com","qty":5}\n{"email":"ned@example.com","qty":6}\n'],
])('without a format field or a known extension, the content type %s decides: %s', async (contentType, format, content) => {
  const dataset = `small-ct-${format}`;
  await createDataset(stack, small(dataset));
  const { job } = await ingest(stack, dataset, 'export', content, { contentType });
  expect(job.status).toBe('completed');
  expect(job.file).toEqual(expect.objectContaining({ name: 'export', format }));
  expect(job.counts).toEqual(ALL_VALID(2));
  expect(await recordData(stack, dataset)).toEqual([
    { email: 'mia@example.com', qty: 5 },
    { email: 'ned@example.com', qty: 6 },
  ]);
});

test('a UTF-8 BOM is dropped, and a header alias maps to its field', async () => {
  await createDataset(stack, {
    name: 'bom',
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', aliases: ['E-mail'] },
      { name: 'city', type: 'string' },
    ],
  });
  const { job } = await ingest(stack, 'bom', 'bom.csv', '\uFEFFe-mail,City\nZoe@example.com,Zürich\n');
  expect(job.counts).toEqual(ALL_VALID(1));
  expect(await recordData(stack, 'bom')).toEqual([{ email: 'zoe@example.com', city: 'Zürich' }]);
});

describe('an optional field that a row leaves out is absent from the record, not an error', () => {
  const expected = [
    { email: 'opt1@example.com', qty: 1 },
    { email: 'opt2@example.com', name: 'Two' },
  ];
  test.each([
    ['JSON array', 'rows.json', '[{"email":"opt1@example.com","qty":1},{"email":"opt2@example.com","name":"Two"}]'],
    ['NDJSON', 'rows.ndjson', '{"email":"opt1@example.com","qty":1}\n{"email":"opt2@example.com","name":"Two"}\n'],
  ])('%s with keys left out', async (label, fileName, content) => {
    const dataset = `optional-${fileName.split('.')[1]}`;
    await createDataset(stack, typed(dataset));
    const { job } = await ingest(stack, dataset, fileName, content);
    const errors = await getJson(stack, `/jobs/${job.id}/errors`);
    expect({ label, counts: job.counts, errors: errors.body.items }).toEqual({ label, counts: ALL_VALID(2), errors: [] });
    expect(await recordData(stack, dataset)).toEqual(expected);
  });

  test('CSV whose header has only some of the fields', async () => {
    await createDataset(stack, typed('optional-csv'));
    const { job } = await ingest(stack, 'optional-csv', 'rows.csv', 'email,qty\nopt1@example.com,1\nopt2@example.com,\n');
    const errors = await getJson(stack, `/jobs/${job.id}/errors`);
    expect({ counts: job.counts, errors: errors.body.items }).toEqual({ counts: ALL_VALID(2), errors: [] });
    expect(await recordData(stack, 'optional-csv')).toEqual([{ email: 'opt1@example.com', qty: 1 }, { email: 'opt2@example.com' }]);
  });

  test('a required field left out is reported as "is required"', async () => {
    await createDataset(stack, { name: 'required-missing', fields: [{ name: 'code', type: 'string', required: true }, { name: 'note', type: 'string' }] });
    const { job } = await ingest(stack, 'required-missing', 'rows.ndjson', '{"note":"no code here","code":null}\n{"note":"nor here"}\n');
    expect(job.counts).toEqual({ rows: 2, valid: 0, invalid: 2, inserted: 0, updated: 0, unchanged: 0 });
    const errors = await getJson(stack, `/jobs/${job.id}/errors`);
    expect(errors.body.items.map((e: { row: number; errors: unknown }) => [e.row, e.errors])).toEqual([
      [1, [{ field: 'code', message: 'is required' }]],
      [2, [{ field: 'code', message: 'is required' }]],
    ]);
  });
});
