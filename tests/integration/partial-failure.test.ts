// A stack of its own with batches of two rows, so that several batches commit before a file breaks.
import { sql } from 'kysely';
import { getJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { cancelLockWaits, createDataset, ingest, ISO_RE, recordData, recordRows, validationErrorRows } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ BATCH_ROWS: '2' });
});
afterAll(async () => {
  // A job caught hanging on a lock (see the cross-batch test) would keep the worker from closing.
  await cancelLockWaits(stack);
  await stack.close();
});

function dataset(name: string) {
  return {
    name,
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'name', type: 'string' },
      { name: 'amount', type: 'number', min: 0 },
    ],
  };
}

async function checkpointOf(jobId: string): Promise<number> {
  const { rows } = await sql<{ checkpoint: number }>`SELECT checkpoint FROM ingestion_jobs WHERE id = ${jobId}`.execute(stack.db);
  return rows[0]!.checkpoint;
}

const JSON_LINES = [
  '[', //                                                        line 1
  '{"email":"a1@example.com","name":"A1","amount":1},', //       line 2, row 1
  '{"email":"a2@example.com","name":"A2","amount":2},', //       line 3, row 2
  '{"email":"bad","name":"Bad","amount":3},', //                 line 4, row 3: invalid
  '{"email":"a4@example.com","name":"A4","amount":4},', //       line 5, row 4
  '{"email":"a5@example.com","name":"A5","amount":5},', //       line 6, row 5
  '{"email":"a6@example.com","name":"A6","amount":6},', //       line 7, row 6
  '{"email":"a7@example.com","name":"A7","amount":7}', //        line 8, row 7
  ']',
];
const JSON_FILE = JSON_LINES.join('\n');
const A = (n: number) => ({ email: `a${n}@example.com`, name: `A${n}`, amount: n });

test('the whole JSON file, in batches of two, lands completely (the baseline for the cuts below)', async () => {
  await createDataset(stack, dataset('json-whole'));
  const { job } = await ingest(stack, 'json-whole', 'whole.json', JSON_FILE);
  expect(job.status).toBe('completed');
  expect(job.counts).toEqual({ rows: 7, valid: 6, invalid: 1, inserted: 6, updated: 0, unchanged: 0 });
  expect(await checkpointOf(job.id)).toBe(7);
});

describe('a JSON array cut at byte N', () => {
  test('inside an element on line 8: failed, parse_error at line 8, the six rows before it committed', async () => {
    await createDataset(stack, dataset('json-cut'));
    const n = JSON_FILE.indexOf('"a7@example') + 4; // …,\n{"email":"a7@
    const cut = JSON_FILE.slice(0, n);
    expect(cut.endsWith('{"email":"a7@')).toBe(true);

    const { job } = await ingest(stack, 'json-cut', 'cut.json', cut);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'parse_error', message: expect.stringContaining('line 8'), line: 8 });
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).toMatch(ISO_RE);
    expect(job.counts).toEqual({ rows: 6, valid: 5, invalid: 1, inserted: 5, updated: 0, unchanged: 0 });
    expect(await checkpointOf(job.id)).toBe(6);

    expect(await recordData(stack, 'json-cut')).toEqual([A(1), A(2), A(4), A(5), A(6)]);
    expect((await recordRows(stack, 'json-cut')).every((r) => r.last_job_id === job.id)).toBe(true);
    const rejected = await validationErrorRows(stack, job.id);
    expect(rejected).toEqual([
      { row_number: 3, line: 4, line_end: 4, raw: '{"email":"bad","name":"Bad","amount":3}', errors: [{ field: 'email', message: 'must be an email address, got "bad"' }] },
    ]);
    const viaApi = await getJson(stack, '/records?dataset=json-cut');
    expect(viaApi.body.items).toHaveLength(5);
  });

  test('after a whole element, before "]": failed at line 8, all seven rows committed', async () => {
    await createDataset(stack, dataset('json-cut-after'));
    const cut = JSON_LINES.slice(0, 8).join('\n');
    const { job } = await ingest(stack, 'json-cut-after', 'cut.json', cut);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'parse_error', message: expect.stringContaining('line 8'), line: 8 });
    expect(job.counts).toEqual({ rows: 7, valid: 6, invalid: 1, inserted: 6, updated: 0, unchanged: 0 });
    expect(await recordData(stack, 'json-cut-after')).toEqual([A(1), A(2), A(4), A(5), A(6), A(7)]);
  });

  test('an element split over lines and cut: the line where the file ends', async () => {
    await createDataset(stack, dataset('json-cut-multiline'));
    const file = [
      '[', //                                       line 1
      '  {"email": "m1@example.com",', //          line 2, row 1
      '   "name": "M1", "amount": 1},', //         line 3
      '  {"email": "m2@example.com",', //          line 4, row 2
      '   "name": "M2", "amount": 2},', //         line 5
      '  {"email": "m3@example.com",', //          line 6, row 3
      '   "name": "M3", "amount": 3},', //         line 7
      '  {"email": "m4@example.com",', //          line 8, row 4: cut on line 9
      '   "name": "M4", "amo',
    ].join('\n');
    const { job } = await ingest(stack, 'json-cut-multiline', 'cut.json', file);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'parse_error', message: expect.stringContaining('line 9'), line: 9 });
    expect(job.counts).toEqual({ rows: 3, valid: 3, invalid: 0, inserted: 3, updated: 0, unchanged: 0 });
    expect((await recordData(stack, 'json-cut-multiline')).map((d) => d.email)).toEqual(['m1@example.com', 'm2@example.com', 'm3@example.com']);
  });
});

describe('a CSV with an unclosed quote near the end', () => {
  const CSV = [
    'email,name,amount', //             line 1
    'c1@example.com,C1,1', //           line 2, row 1
    'c2@example.com,"C2', //            line 3, row 2 (a quoted field over two lines)
    'two",2', //                        line 4
    'c3@example.com,C3,-1', //          line 5, row 3: invalid
    'c4@example.com,C4,4', //           line 6, row 4
    'c5@example.com,C5,5', //           line 7, row 5
    'c6@example.com,"C6,6', //          line 8, row 6: the quote never closes
    'c7@example.com,C7,7', //           line 9
    '',
  ].join('\n');

  test.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('%s: failed, parse_error at the line the quote opened, the five rows before it committed', async (label, eol) => {
    const name = `csv-unclosed-${label.toLowerCase()}`;
    await createDataset(stack, dataset(name));
    const { job } = await ingest(stack, name, 'unclosed.csv', CSV.replaceAll('\n', eol));
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'parse_error', message: expect.stringContaining('line 8'), line: 8 });
    expect(job.attempts).toBe(1);
    expect(job.counts).toEqual({ rows: 5, valid: 4, invalid: 1, inserted: 4, updated: 0, unchanged: 0 });
    expect(await checkpointOf(job.id)).toBe(5);
    expect(await recordData(stack, name)).toEqual([
      { email: 'c1@example.com', name: 'C1', amount: 1 },
      { email: 'c2@example.com', name: `C2${eol}two`, amount: 2 },
      { email: 'c4@example.com', name: 'C4', amount: 4 },
      { email: 'c5@example.com', name: 'C5', amount: 5 },
    ]);
    expect(await validationErrorRows(stack, job.id)).toEqual([
      { row_number: 3, line: 5, line_end: 5, raw: 'c3@example.com,C3,-1', errors: [{ field: 'amount', message: 'must be at least 0, got -1' }] },
    ]);
  });
});

test('across batches the later row of an identity wins: the first batch inserts it, a later one updates it', async () => {
  // Batches are committed two at a time, so the same key in consecutive batches races; the
  // race does not show every time, so the file is ingested into twenty fresh datasets.
  const csv = ['email,name,amount', 'x@example.com,X,1', 'y@example.com,Y,1', 'x@example.com,X,2', 'z@example.com,Z,3', 'x@example.com,X,2', ''].join('\n');
  for (let i = 0; i < 20; i++) {
    const name = `cross-batch-${i}`;
    await createDataset(stack, dataset(name));
    const res = await upload(stack, 'x.csv', csv, { dataset: name });
    expect(res.status).toBe(202);
    const job = await waitForJob(stack, res.body.id, 5_000);
    // Batch [x1, y] inserts two; batch [x2, z] updates x and inserts z; batch [x2] finds x unchanged.
    expect({ i, status: job.status, counts: job.counts }).toEqual({
      i,
      status: 'completed',
      counts: { rows: 5, valid: 5, invalid: 0, inserted: 3, updated: 1, unchanged: 1 },
    });
    expect(await recordData(stack, name)).toEqual([
      { email: 'x@example.com', name: 'X', amount: 2 },
      { email: 'y@example.com', name: 'Y', amount: 1 },
      { email: 'z@example.com', name: 'Z', amount: 3 },
    ]);
  }
});
