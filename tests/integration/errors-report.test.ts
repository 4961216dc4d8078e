import { getJson, startTestStack, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, ingest, parseCsvText, recordData, recordRows, request, validationErrorRows, walkPages } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

function customers(name: string) {
  return {
    name,
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true, aliases: ['E-mail'] },
      { name: 'name', type: 'string', maxLength: 200 },
      { name: 'signup_date', type: 'date' },
      { name: 'amount', type: 'number', min: 0 },
      { name: 'country', type: 'enum', values: ['DE', 'FR', 'US'] },
      { name: 'active', type: 'boolean' },
    ],
  };
}

/**
 * Twelve lines, eight rows: rows 2 and 6 hold quoted fields that span lines, so every row
 * after them starts on a line other than its row number + 1.
 */
function messyCsv(eol: string): string {
  return [
    'E-mail,Name,signup_date,amount,country,active', //                    line 1 (header)
    'ann@example.com,Ann,2024-01-05,10,DE,yes', //                        line 2, row 1: valid
    'not-an-email,"Bob', //                                                line 3, row 2: five bad fields
    'Multi",2024-13-01,-5,XX,maybe', //                                    line 4
    'carl@example.com,"Carl ""C""",2024-03-05,4,US,true', //              line 5, row 3: valid
    ',Dora,2024-04-05,abc,FR,no', //                                       line 6, row 4: no email, bad amount
    'eve@example.com,Eve,2024-05-05,1,DE', //                              line 7, row 5: a column short
    'frank@example.com,"Frank', //                                         line 8, row 6: valid, 3 lines
    'Second',
    'Third",2024-06-05,7,US,no', //                                        line 10
    'gina@example.com,Gina,05.07.2024,8,de,1', //                          line 11, row 7: valid
    'hank@example.com,"Hank, ""H""",2024-02-30,9,FR,0', //                line 12, row 8: no such day
    '',
  ].join(eol);
}

const BOB_ERRORS = [
  { field: 'email', message: 'must be an email address, got "not-an-email"' },
  { field: 'signup_date', message: 'must be a date like 2024-03-31, got "2024-13-01"' },
  { field: 'amount', message: 'must be at least 0, got -5' },
  { field: 'country', message: 'must be one of DE, FR, US, got "XX"' },
  { field: 'active', message: 'must be true or false (also yes/no, 1/0), got "maybe"' },
];
const DORA_ERRORS = [
  { field: 'email', message: 'is required' },
  { field: 'amount', message: 'must be a number, got "abc"' },
];
const EVE_ERRORS = [{ field: null, message: 'row has 5 columns, the header has 6' }];
const HANK_ERRORS = [{ field: 'signup_date', message: 'must be a date like 2024-03-31, got "2024-02-30"' }];

function expectedErrors(eol: string) {
  return [
    { row: 2, line: 3, lineEnd: 4, raw: `not-an-email,"Bob${eol}Multi",2024-13-01,-5,XX,maybe`, errors: BOB_ERRORS },
    { row: 4, line: 6, lineEnd: 6, raw: ',Dora,2024-04-05,abc,FR,no', errors: DORA_ERRORS },
    { row: 5, line: 7, lineEnd: 7, raw: 'eve@example.com,Eve,2024-05-05,1,DE', errors: EVE_ERRORS },
    { row: 8, line: 12, lineEnd: 12, raw: 'hank@example.com,"Hank, ""H""",2024-02-30,9,FR,0', errors: HANK_ERRORS },
  ];
}

const pick = (e: Record<string, unknown>) => ({ row: e.row, line: e.line, lineEnd: e.lineEnd, raw: e.raw, errors: e.errors });

const VALID_DATA = [
  { email: 'ann@example.com', name: 'Ann', signup_date: '2024-01-05', amount: 10, country: 'DE', active: true },
  { email: 'carl@example.com', name: 'Carl "C"', signup_date: '2024-03-05', amount: 4, country: 'US', active: true },
  { email: 'frank@example.com', name: 'Frank\nSecond\nThird', signup_date: '2024-06-05', amount: 7, country: 'US', active: false },
  { email: 'gina@example.com', name: 'Gina', signup_date: '2024-07-05', amount: 8, country: 'DE', active: true },
];

describe.each([
  ['LF', '\n'],
  ['CRLF', '\r\n'],
])('a CSV with %s line ends and quoted fields spanning lines', (label, eol) => {
  const dataset = `errors-${label.toLowerCase()}`;
  let jobId: string;
  beforeAll(async () => {
    await createDataset(stack, customers(dataset));
    const { job } = await ingest(stack, dataset, 'messy.csv', messyCsv(eol));
    expect(job.status).toBe('completed');
    jobId = job.id;
  });

  test('counts and the valid rows', async () => {
    const job = (await getJson(stack, `/jobs/${jobId}`)).body;
    expect(job.counts).toEqual({ rows: 8, valid: 4, invalid: 4, inserted: 4, updated: 0, unchanged: 0 });
    const valid = VALID_DATA.map((d) => (d.email === 'frank@example.com' ? { ...d, name: `Frank${eol}Second${eol}Third` } : d));
    expect(await recordData(stack, dataset)).toEqual(valid);
  });

  test('GET /jobs/:id/errors: row, line, lineEnd, raw text as in the file, and every failing field', async () => {
    const res = await getJson(stack, `/jobs/${jobId}/errors`);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map(pick)).toEqual(expectedErrors(eol));
    // Every raw text is a verbatim slice of the uploaded file.
    for (const item of res.body.items) expect(messyCsv(eol)).toContain(item.raw);
  });

  test('the validation_errors table holds the same four rows', async () => {
    const rows = await validationErrorRows(stack, jobId);
    expect(rows).toEqual(expectedErrors(eol).map((e) => ({ row_number: e.row, line: e.line, line_end: e.lineEnd, raw: e.raw, errors: e.errors })));
  });

  test('pagination with limit and cursor walks the rows once, in row order', async () => {
    const byOne = await walkPages(stack, `/jobs/${jobId}/errors`, 1, (e) => e.row);
    expect(byOne.ids).toEqual([2, 4, 5, 8]);
    expect(byOne.pages.map((p) => p.nextCursor)).toEqual(['2', '4', '5', null]);
    const byThree = await walkPages(stack, `/jobs/${jobId}/errors`, 3, (e) => e.row);
    expect(byThree.pages.map((p) => p.items.length)).toEqual([3, 1]);
    expect(byThree.items.map(pick)).toEqual(expectedErrors(eol));
    const afterFour = await getJson(stack, `/jobs/${jobId}/errors?cursor=4&limit=100`);
    expect(afterFour.body.items.map((e: { row: number }) => e.row)).toEqual([5, 8]);
  });
});

describe('?format=csv, fixed and uploaded again', () => {
  const dataset = 'errors-fix';
  let jobId: string;
  beforeAll(async () => {
    await createDataset(stack, customers(dataset));
    jobId = (await ingest(stack, dataset, 'messy.csv', messyCsv('\n'))).job.id;
  });

  const EXPECTED_CSV = [
    'E-mail,Name,signup_date,amount,country,active,error',
    'not-an-email,"Bob\nMulti",2024-13-01,-5,XX,maybe,"email must be an email address, got ""not-an-email""; signup_date must be a date like 2024-03-31, got ""2024-13-01""; amount must be at least 0, got -5; country must be one of DE, FR, US, got ""XX""; active must be true or false (also yes/no, 1/0), got ""maybe"""',
    ',Dora,2024-04-05,abc,FR,no,"email is required; amount must be a number, got ""abc"""',
    'eve@example.com,Eve,2024-05-05,1,DE,,"row has 5 columns, the header has 6"',
    'hank@example.com,"Hank, ""H""",2024-02-30,9,FR,0,"signup_date must be a date like 2024-03-31, got ""2024-02-30"""',
    '',
  ].join('\r\n');

  test('downloads the rejected rows as text/csv: the file’s header + error, each row as it was', async () => {
    const res = await request(stack, 'GET', `/jobs/${jobId}/errors?format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv\b/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${jobId}-errors.csv"`);
    expect(res.text).toBe(EXPECTED_CSV);
  });

  test('fixing the values and uploading that file lands exactly those rows and leaves the others alone', async () => {
    const before = await recordRows(stack, dataset);
    expect(before.map((r) => r.data)).toEqual(expect.arrayContaining(VALID_DATA));
    expect(before).toHaveLength(4);

    const downloaded = (await request(stack, 'GET', `/jobs/${jobId}/errors?format=csv`)).text;
    const fixes: Array<[string, string]> = [
      ['not-an-email,"Bob\nMulti",2024-13-01,-5,XX,maybe,', 'bob@example.com,"Bob\nMulti",2024-12-01,5,FR,yes,'],
      [',Dora,2024-04-05,abc,FR,no,', 'dora@example.com,Dora,2024-04-05,4.5,FR,no,'],
      ['eve@example.com,Eve,2024-05-05,1,DE,,', 'eve@example.com,Eve,2024-05-05,1,DE,true,'],
      ['hank@example.com,"Hank, ""H""",2024-02-30,9,FR,0,', 'hank@example.com,"Hank, ""H""",2024-02-29,9,FR,0,'],
    ];
    let fixed = downloaded;
    for (const [from, to] of fixes) {
      expect(fixed).toContain(from);
      fixed = fixed.replace(from, to);
    }

    const { job } = await ingest(stack, dataset, 'fixed.csv', fixed);
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ rows: 4, valid: 4, invalid: 0, inserted: 4, updated: 0, unchanged: 0 });
    expect((await getJson(stack, `/jobs/${job.id}/errors`)).body).toEqual({ items: [], nextCursor: null });

    const after = await recordRows(stack, dataset);
    expect(after).toHaveLength(8);
    // The four that were there: byte for byte the same rows, still owned by the first job.
    for (const old of before) expect(after.find((r) => r.id === old.id)).toEqual(old);
    expect(before.every((r) => r.last_job_id === jobId)).toBe(true);
    const landed = after.filter((r) => !before.some((b) => b.id === r.id));
    expect(landed.every((r) => r.first_job_id === job.id && r.last_job_id === job.id)).toBe(true);
    expect(landed.map((r) => r.data).sort((x, y) => String(x.email).localeCompare(String(y.email)))).toEqual([
      { email: 'bob@example.com', name: 'Bob\nMulti', signup_date: '2024-12-01', amount: 5, country: 'FR', active: true },
      { email: 'dora@example.com', name: 'Dora', signup_date: '2024-04-05', amount: 4.5, country: 'FR', active: false },
      { email: 'eve@example.com', name: 'Eve', signup_date: '2024-05-05', amount: 1, country: 'DE', active: true },
      { email: 'hank@example.com', name: 'Hank, "H"', signup_date: '2024-02-29', amount: 9, country: 'FR', active: false },
    ]);
  });

  test('a job without rejected rows downloads just the header', async () => {
    await createDataset(stack, customers('errors-none'));
    const { job } = await ingest(stack, 'errors-none', 'ok.csv', 'email,name,signup_date,amount,country,active\nok@example.com,Ok,2024-01-01,1,DE,yes\n');
    expect(job.counts).toEqual({ rows: 1, valid: 1, invalid: 0, inserted: 1, updated: 0, unchanged: 0 });
    const res = await request(stack, 'GET', `/jobs/${job.id}/errors?format=csv`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('email,name,signup_date,amount,country,active,error\r\n');
  });

  test('a CSV of only a header: the download still has the file’s header', async () => {
    await createDataset(stack, customers('errors-header-only'));
    const { job } = await ingest(stack, 'errors-header-only', 'empty.csv', 'E-mail,Name,amount\n');
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 });
    const res = await request(stack, 'GET', `/jobs/${job.id}/errors?format=csv`);
    expect(res.text).toBe('E-mail,Name,amount,error\r\n');
  });

  test('JSON rows with different keys: every rejected row keeps every value it had', async () => {
    await createDataset(stack, customers('errors-json-csv'));
    const file = '{"email":"bad"}\n{"email":"bad2","amount":"lots","country":"DE"}\n';
    const { job } = await ingest(stack, 'errors-json-csv', 'rows.ndjson', file);
    expect(job.counts).toEqual({ rows: 2, valid: 0, invalid: 2, inserted: 0, updated: 0, unchanged: 0 });
    const res = await request(stack, 'GET', `/jobs/${job.id}/errors?format=csv`);
    expect(res.status).toBe(200);
    const [header, ...rows] = parseCsvText(res.text);
    expect(header!.at(-1)).toBe('error');
    expect([...header!].sort()).toEqual(['amount', 'country', 'email', 'error']);
    const asObjects = rows.map((cells) => Object.fromEntries(header!.map((h, i) => [h, cells[i]])));
    expect(asObjects).toEqual([
      { email: 'bad', amount: '', country: '', error: 'email must be an email address, got "bad"' },
      { email: 'bad2', amount: 'lots', country: 'DE', error: 'email must be an email address, got "bad2"; amount must be a number, got "lots"' },
    ]);
  });

  test('an unknown format → 400 validation_failed', async () => {
    expectError(await request(stack, 'GET', `/jobs/${jobId}/errors?format=xml`), 400, 'validation_failed');
  });
});

test('NDJSON: each rejected line with its line number (blank lines count), JSON problems included', async () => {
  await createDataset(stack, customers('errors-ndjson'));
  const good = '{"email":"a@example.com","name":"A","signup_date":null,"amount":1,"country":"DE","active":true}';
  const negative = '{"email":"b@example.com","name":"B","signup_date":null,"amount":-1,"country":"DE","active":true}';
  const file = [good, '', 'not json', '[1,2]', negative, ''].join('\n');
  const { job } = await ingest(stack, 'errors-ndjson', 'feed.ndjson', file);
  expect(job.counts).toEqual({ rows: 4, valid: 1, invalid: 3, inserted: 1, updated: 0, unchanged: 0 });
  const res = await getJson(stack, `/jobs/${job.id}/errors`);
  expect(res.body.items.map(pick)).toEqual([
    { row: 2, line: 3, lineEnd: 3, raw: 'not json', errors: [{ field: null, message: expect.stringMatching(/^row is not valid JSON: /) }] },
    { row: 3, line: 4, lineEnd: 4, raw: '[1,2]', errors: [{ field: null, message: 'row is an array, expected a JSON object' }] },
    { row: 4, line: 5, lineEnd: 5, raw: negative, errors: [{ field: 'amount', message: 'must be at least 0, got -1' }] },
  ]);
});

test('JSON array: an element spanning lines is reported with its first and last line and its text', async () => {
  await createDataset(stack, customers('errors-json'));
  const second = '{"email": "bad", "name": "D",\n   "signup_date": null, "amount": 1, "country": "DE", "active": true}';
  const file = [
    '[',
    '  {"email": "c@example.com", "name": "C",',
    '   "signup_date": null, "amount": 1, "country": "DE", "active": true},',
    `  ${second},`,
    '  "just a string"',
    ']',
  ].join('\n');
  const { job } = await ingest(stack, 'errors-json', 'rows.json', file);
  expect(job.counts).toEqual({ rows: 3, valid: 1, invalid: 2, inserted: 1, updated: 0, unchanged: 0 });
  const res = await getJson(stack, `/jobs/${job.id}/errors`);
  expect(res.body.items.map(pick)).toEqual([
    { row: 2, line: 4, lineEnd: 5, raw: second, errors: [{ field: 'email', message: 'must be an email address, got "bad"' }] },
    { row: 3, line: 6, lineEnd: 6, raw: '"just a string"', errors: [{ field: null, message: 'row is a string, expected a JSON object' }] },
  ]);
});
