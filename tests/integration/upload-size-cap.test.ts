// A stack of its own: the size cap is configuration (MAX_UPLOAD_BYTES=1000).
import { startTestStack, upload, type TestStack } from '../helpers/stack.js';
import { countRows, createDataset, expectError, ingest, listFiles, sha256 } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ MAX_UPLOAD_BYTES: '1000' });
  await createDataset(stack, { name: 'capped', key: ['email'], fields: [{ name: 'email', type: 'email', required: true }] });
});
afterAll(async () => stack.close());

/** A CSV of exactly `bytes` bytes (ASCII): a header, distinct addresses, and a last one padded to fit. */
function csvOfSize(bytes: number): string {
  let text = 'email\n';
  for (let i = 0; text.length + 40 < bytes; i++) text += `u${String(i).padStart(4, '0')}@example.com\n`;
  const tail = '@example.com\n';
  return text + 'z'.repeat(bytes - text.length - tail.length) + tail;
}

async function stored() {
  return { jobs: await countRows(stack, 'ingestion_jobs'), files: await listFiles(stack.storageDir) };
}

test('a file over the cap → 413 payload_too_large, the partial file removed, no job row', async () => {
  const before = await stored();
  const big = 'email\n' + 'someone@example.com\n'.repeat(250); // 5006 bytes
  const res = await upload(stack, 'big.csv', big, { dataset: 'capped' });
  const error = expectError(res, 413, 'payload_too_large');
  expect(error.message.length).toBeGreaterThan(0);
  expect(await stored()).toEqual(before);
});

test('one byte over the cap → 413, nothing stored', async () => {
  const before = await stored();
  const content = csvOfSize(1001);
  expect(Buffer.byteLength(content)).toBe(1001);
  expectError(await upload(stack, 'over.csv', content, { dataset: 'capped' }), 413, 'payload_too_large');
  expect(await stored()).toEqual(before);
});

test('a file of exactly the cap is accepted and ingested whole', async () => {
  const content = csvOfSize(1000);
  expect(Buffer.byteLength(content)).toBe(1000);
  const rows = content.trim().split('\n').length - 1;
  const before = await stored();
  const { job } = await ingest(stack, 'capped', 'exact.csv', content);
  expect(job.status).toBe('completed');
  expect(job.file).toEqual({ name: 'exact.csv', format: 'csv', sizeBytes: 1000, sha256: sha256(content) });
  expect(job.counts).toEqual({ rows, valid: rows, invalid: 0, inserted: rows, updated: 0, unchanged: 0 });
  const after = await stored();
  expect(after.jobs).toBe(before.jobs + 1);
  expect(after.files.filter((f) => !before.files.includes(f))).toHaveLength(1);
});
