// The same upload → job → records flow, and the same guarantees for rejected and abandoned
// uploads, on each storage adapter: a temporary directory, and S3 (an s3rver of the stack's own).
import { request as httpRequest } from 'node:http';
import { startTestStack, upload, type TestStack, type TestStorage } from '../helpers/stack.js';
import { countRows, createDataset, expectError, ingest, recordData, sha256, until } from './support.js';

const MIB = 1024 * 1024;
const CAP = 7 * MIB;

const CSV = ['email,name,amount', 'ann@example.com,Ann,10.5', 'bob@example.com,Bob,3', 'carl@example.com,Carl,4'].join('\n');

/** A CSV of about `bytes` bytes with distinct addresses: larger than one S3 part when over 5 MiB. */
function bigCsv(bytes: number): { text: string; rows: number } {
  const lines = ['email,name,amount'];
  let size = lines[0]!.length + 1;
  for (let i = 0; size < bytes; i++) {
    const line = `user${String(i).padStart(7, '0')}@example.com,User number ${i},${i % 1000}`;
    lines.push(line);
    size += line.length + 1;
  }
  return { text: lines.join('\n') + '\n', rows: lines.length - 1 };
}

describe.each<TestStorage>(['disk', 's3'])('storage=%s', (storage) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ MAX_UPLOAD_BYTES: String(CAP) }, { storage });
    await createDataset(stack, {
      name: 'people',
      key: ['email'],
      fields: [
        { name: 'email', type: 'email', required: true },
        { name: 'name', type: 'string' },
        { name: 'amount', type: 'number', min: 0 },
      ],
    });
  });
  afterAll(async () => stack?.close());

  /** Where the adapter keeps a job's upload. */
  const keyOf = (jobId: string) => `${storage === 's3' ? 'uploads/' : ''}${stack.tenantId}/${jobId}`;

  /** What uploads left behind: job rows, stored objects, and (on S3) unfinished multipart uploads. */
  async function leftovers() {
    return {
      jobs: await countRows(stack, 'ingestion_jobs'),
      keys: await stack.storedKeys(),
      pending: (await stack.s3?.pendingUploads()) ?? [],
    };
  }

  test('upload → job → records, the stored file measured, and the same file again changes nothing', async () => {
    const before = await leftovers();
    const { accepted, job } = await ingest(stack, 'people', 'people.csv', CSV);
    expect(job).toMatchObject({
      status: 'completed',
      file: { name: 'people.csv', format: 'csv', sizeBytes: Buffer.byteLength(CSV), sha256: sha256(CSV) },
      counts: { rows: 3, valid: 3, invalid: 0, inserted: 3, updated: 0, unchanged: 0 },
    });
    expect(await recordData(stack, 'people')).toEqual([
      { email: 'ann@example.com', name: 'Ann', amount: 10.5 },
      { email: 'bob@example.com', name: 'Bob', amount: 3 },
      { email: 'carl@example.com', name: 'Carl', amount: 4 },
    ]);
    expect(await stack.storedKeys()).toEqual([...before.keys, keyOf(accepted.id as string)].sort());

    const again = await ingest(stack, 'people', 'people.csv', CSV);
    expect(again.job.counts).toEqual({ rows: 3, valid: 3, invalid: 0, inserted: 0, updated: 0, unchanged: 3 });
    expect(await countRows(stack, 'records')).toBe(3);
  });

  test('a file of several S3 parts streams through to the worker and lands whole', async () => {
    const { text, rows } = bigCsv(6 * MIB);
    const before = await leftovers();
    const { accepted, job } = await ingest(stack, 'people', 'many.csv', text);
    expect(job).toMatchObject({
      status: 'completed',
      file: { name: 'many.csv', format: 'csv', sizeBytes: Buffer.byteLength(text), sha256: sha256(text) },
      counts: { rows, valid: rows, invalid: 0, inserted: rows, updated: 0, unchanged: 0 },
    });
    expect(await countRows(stack, 'records')).toBe(3 + rows);
    const after = await leftovers();
    expect(after.keys).toEqual([...before.keys, keyOf(accepted.id as string)].sort());
    expect(after.pending).toEqual([]);
  });

  test('a file over MAX_UPLOAD_BYTES → 413, and neither a stored file nor a pending upload nor a job remains', async () => {
    const before = await leftovers();
    const res = await upload(stack, 'huge.csv', bigCsv(CAP + 3 * MIB).text, { dataset: 'people' });
    expectError(res, 413, 'payload_too_large');
    expect(await leftovers()).toEqual(before);
  });

  test('a client that hangs up after megabytes of the file leaves nothing behind', async () => {
    const before = await leftovers();
    const head =
      '--XYZ\r\nContent-Disposition: form-data; name="dataset"\r\n\r\npeople\r\n' +
      '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\nContent-Type: text/csv\r\n\r\n';
    // node:http rather than fetch: the request and its socket are this test's own, so nothing
    // of the client stays connected once it has hung up.
    const req = httpRequest(`${stack.baseUrl}/upload`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'multipart/form-data; boundary=XYZ' },
    });
    const sent = new Promise<string>((resolve) => {
      req.on('response', () => resolve('answered'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    req.write(head);
    const bytes = Buffer.from(bigCsv(6 * MIB).text);
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024) {
      if (!req.write(bytes.subarray(offset, offset + 64 * 1024))) await new Promise((r) => req.once('drain', r));
    }
    // The server is storing the file: a temporary file on disk, a multipart upload begun on S3…
    await until(
      'the upload is being stored',
      async () => {
        const now = await leftovers();
        return now.keys.length > before.keys.length || now.pending.length > before.pending.length;
      },
      20_000,
    );
    req.destroy();
    expect(await sent).toBe('ECONNRESET');
    // …and lets go of it once the client is gone.
    await until('nothing of the upload remains', async () => JSON.stringify(await leftovers()) === JSON.stringify(before), 20_000);
  });
});
