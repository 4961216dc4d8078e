import { startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';
import { countRows, createDataset, expectError, listFiles, request, until, uploadParts, type Part } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await createDataset(stack, { name: 'bad', key: ['email'], fields: [{ name: 'email', type: 'email', required: true }] });
});
afterAll(async () => stack.close());

const CSV = 'email\na@example.com\nb@example.com\n';

/** What the upload left behind: job rows and stored files. */
async function stored() {
  return { jobs: await countRows(stack, 'ingestion_jobs'), files: await listFiles(stack.storageDir) };
}

/** Runs a request that must be refused, and asserts status, code, shape and that nothing was stored. */
async function refused(send: () => Promise<{ status: number; body: unknown }>, status: number, code: string) {
  const before = await stored();
  const res = await send();
  const error = expectError(res, status, code);
  expect(await stored()).toEqual(before);
  return error;
}

test('control: an accepted upload does leave one job row and one stored file (so the probes below can see one)', async () => {
  const before = await stored();
  const res = await upload(stack, 'good.csv', CSV, { dataset: 'bad' });
  expect(res.status).toBe(202);
  await waitForJob(stack, res.body.id);
  const after = await stored();
  expect(after.jobs).toBe(before.jobs + 1);
  expect(after.files.filter((f) => !before.files.includes(f))).toHaveLength(1);
});

test('no file part → 400 missing_file', async () => {
  const error = await refused(() => uploadParts(stack, [{ name: 'dataset', value: 'bad' }]), 400, 'missing_file');
  expect(error.message).toContain('file');
});

test('an unknown dataset → 404 not_found', async () => {
  const error = await refused(() => upload(stack, 'x.csv', CSV, { dataset: 'no-such-dataset' }), 404, 'not_found');
  expect(error.message).toContain('no-such-dataset');
});

test('no dataset field at all → 400', async () => {
  await refused(() => uploadParts(stack, [{ name: 'file', file: CSV, fileName: 'x.csv' }]), 400, 'validation_failed');
});

test('the dataset field after the file → 400', async () => {
  const parts: Part[] = [
    { name: 'file', file: CSV, fileName: 'x.csv' },
    { name: 'dataset', value: 'bad' },
  ];
  const error = await refused(() => uploadParts(stack, parts), 400, 'validation_failed');
  expect(error.message).toMatch(/dataset/);
  expect(error.message).toMatch(/before the file/);
});

test('a format that cannot be told (file.xyz, octet-stream, no format field) → 415 unsupported_media_type', async () => {
  const error = await refused(() => upload(stack, 'file.xyz', CSV, { dataset: 'bad' }, { contentType: 'application/octet-stream' }), 415, 'unsupported_media_type');
  expect(error.message).toContain('file.xyz');
});

test('a declared format Sluice does not read → 415 unsupported_media_type', async () => {
  await refused(() => upload(stack, 'file.csv', CSV, { dataset: 'bad', format: 'xml' }), 415, 'unsupported_media_type');
});

test('a file without a name or a known content type → 415', async () => {
  await refused(() => upload(stack, 'noext', CSV, { dataset: 'bad' }, { contentType: 'application/pdf' }), 415, 'unsupported_media_type');
});

test.each([
  ['JSON', 'application/json', '{"dataset":"bad"}'],
  ['plain text', 'text/plain', CSV],
  ['raw bytes', 'application/octet-stream', CSV],
  ['urlencoded form', 'application/x-www-form-urlencoded', 'dataset=bad&file=x'],
])('a non-multipart POST /upload (%s) → 415 unsupported_media_type', async (_label, contentType, body) => {
  await refused(() => request(stack, 'POST', '/upload', { headers: { 'content-type': contentType }, body }), 415, 'unsupported_media_type');
});

test('a POST /upload without a body → 415', async () => {
  await refused(() => request(stack, 'POST', '/upload'), 415, 'unsupported_media_type');
});

test('an unexpected field → 400 bad_request', async () => {
  const parts: Part[] = [
    { name: 'dataset', value: 'bad' },
    { name: 'colour', value: 'red' },
    { name: 'file', file: CSV, fileName: 'x.csv' },
  ];
  const error = await refused(() => uploadParts(stack, parts), 400, 'bad_request');
  expect(error.message).toContain('colour');
});

test('the file under another field name → 400 bad_request', async () => {
  const parts: Part[] = [
    { name: 'dataset', value: 'bad' },
    { name: 'upload', file: CSV, fileName: 'x.csv' },
  ];
  await refused(() => uploadParts(stack, parts), 400, 'bad_request');
});

test('two files → 4xx, and neither stays', async () => {
  const parts: Part[] = [
    { name: 'dataset', value: 'bad' },
    { name: 'file', file: CSV, fileName: 'one.csv' },
    { name: 'file', file: CSV, fileName: 'two.csv' },
  ];
  const before = await stored();
  const res = await uploadParts(stack, parts);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expectError(res, res.status, res.body.error.code);
  expect(await stored()).toEqual(before);
});

test('a multipart body with no parts at all → 400', async () => {
  const body = 'not multipart at all';
  const before = await stored();
  const res = await request(stack, 'POST', '/upload', { headers: { 'content-type': 'multipart/form-data; boundary=XYZ' }, body });
  expect(res.status).toBe(400);
  expectError(res, 400, res.body.error.code);
  expect(await stored()).toEqual(before);
});

test('a client that hangs up mid-file leaves no file and no job behind', async () => {
  const before = await stored();
  const head = '--XYZ\r\nContent-Disposition: form-data; name="dataset"\r\n\r\nbad\r\n--XYZ\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\nContent-Type: text/csv\r\n\r\nemail\n';
  const controller = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start: (c) => c.enqueue(new TextEncoder().encode(head + 'a@example.com\n'.repeat(5000))),
    pull: () => new Promise<void>(() => undefined), // the rest never comes
  });
  const sent = fetch(`${stack.baseUrl}/upload`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
    body,
    duplex: 'half',
    signal: controller.signal,
  }).then(
    () => 'answered',
    (error: Error) => error.name,
  );
  // The server is writing the file…
  await until('the upload is being stored', async () => (await listFiles(stack.storageDir)).length > before.files.length);
  controller.abort();
  expect(await sent).toBe('AbortError');
  // …and removes it once the client is gone.
  await until('the partial file is removed', async () => (await listFiles(stack.storageDir)).length === before.files.length);
  expect(await stored()).toEqual(before);
});

test('a multipart body that ends inside the file (no closing boundary) → 400 promptly, and no partial file stays', async () => {
  const body = '--XYZ\r\nContent-Disposition: form-data; name="dataset"\r\n\r\nbad\r\n--XYZ\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\nemail\na@example.com\n';
  const before = await stored();
  let outcome: { status: number; body: unknown } | string;
  try {
    const res = await fetch(`${stack.baseUrl}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    outcome = { status: res.status, body: await res.json() };
  } catch (error) {
    outcome = `no answer: ${(error as Error).name}`;
  }
  expect(outcome).toEqual({ status: 400, body: expect.anything() });
  if (typeof outcome !== 'string') expectError(outcome, 400, 'bad_request');
  expect(await stored()).toEqual(before);
});

test('an Idempotency-Key over 200 characters → 400 bad_request', async () => {
  await refused(() => upload(stack, 'x.csv', CSV, { dataset: 'bad' }, { headers: { 'Idempotency-Key': 'k'.repeat(201) } }), 400, 'bad_request');
});
