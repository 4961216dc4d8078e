import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startS3, type TestS3 } from '../../../tests/helpers/s3.js';
import { createS3Client, S3Storage } from './s3-storage.js';

const MIB = 1024 * 1024;
const PREFIX = 'uploads/';

let s3: TestS3;
let client: ReturnType<typeof createS3Client>;
let storage: S3Storage;
/** The names of the S3 commands the adapter sent, in order. */
const sent: string[] = [];
beforeAll(async () => {
  s3 = await startS3();
  client = createS3Client({ endpoint: s3.endpoint, forcePathStyle: true });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  storage = new S3Storage(client, { bucket: s3.bucket, prefix: PREFIX, partBytes: 5 * MIB, queueSize: 2 });
});
afterAll(async () => {
  client.destroy();
  await s3.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** `bytes` as a stream of 64 KiB chunks, the way a multipart file part arrives. */
function chunked(bytes: Buffer): Readable {
  let offset = 0;
  return new Readable({
    read() {
      this.push(offset < bytes.length ? bytes.subarray(offset, (offset += 64 * 1024)) : null);
    },
  });
}

/**
 * A body that sends `bytes`, then stalls until the test calls `fail`, like a client that
 * sends part of a file and then goes away or trips a size limit.
 */
function stalling(bytes: Buffer): { body: Readable; ended: Promise<void>; fail: (error?: Error) => void } {
  let offset = 0;
  let markEnded!: () => void;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const body = new Readable({
    read() {
      if (offset < bytes.length) this.push(bytes.subarray(offset, (offset += 64 * 1024)));
      else markEnded();
    },
  });
  return { body, ended, fail: (error) => body.destroy(error) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function untilPending(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await s3.pendingUploads()).length < count) {
    if (Date.now() > deadline) throw new Error(`no multipart upload was begun within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('S3Storage against s3rver', () => {
  test('a small file is written in one PUT, measured, and read back byte for byte', async () => {
    const bytes = Buffer.from('email\nann@example.com\n');
    sent.length = 0;
    expect(await storage.write('t1/small', chunked(bytes))).toEqual({ key: 't1/small', sizeBytes: bytes.length, sha256: sha256(bytes) });
    expect(await readAll(await storage.read('t1/small'))).toEqual(bytes);
    expect(await s3.objectKeys()).toContain(`${PREFIX}t1/small`);
    expect(sent).toEqual(['PutObjectCommand', 'GetObjectCommand']);
  });

  test('a file larger than a part goes up as a multipart upload and comes back whole', async () => {
    const bytes = randomBytes(12 * MIB + 12_345); // three parts of 5 MiB, the last one short
    sent.length = 0;
    expect(await storage.write('t1/large', chunked(bytes))).toEqual({ key: 't1/large', sizeBytes: bytes.length, sha256: sha256(bytes) });
    const back = await readAll(await storage.read('t1/large'));
    expect({ size: back.length, sha256: sha256(back) }).toEqual({ size: bytes.length, sha256: sha256(bytes) });
    expect(sent).toEqual([
      'CreateMultipartUploadCommand',
      ...Array<string>(3).fill('UploadPartCommand'),
      'CompleteMultipartUploadCommand',
      'GetObjectCommand',
    ]);
    expect(await s3.pendingUploads()).toEqual([]);
  });

  test('an empty file is stored as an empty object', async () => {
    expect(await storage.write('t1/empty', chunked(Buffer.alloc(0)))).toEqual({
      key: 't1/empty',
      sizeBytes: 0,
      sha256: sha256(Buffer.alloc(0)),
    });
    expect(await readAll(await storage.read('t1/empty'))).toEqual(Buffer.alloc(0));
  });

  test('reading a key that is not there rejects with not_found', async () => {
    await expect(storage.read('t1/nothing-here')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });

  test('remove deletes the object; removing a missing one is not an error', async () => {
    await storage.write('t1/doomed', chunked(Buffer.from('x')));
    await storage.remove('t1/doomed');
    expect(await s3.objectKeys()).not.toContain(`${PREFIX}t1/doomed`);
    await expect(storage.read('t1/doomed')).rejects.toMatchObject({ code: 'not_found' });
    await expect(storage.remove('t1/doomed')).resolves.toBeUndefined();
  });

  test('a body that breaks off after parts were sent leaves no object and no pending multipart upload', async () => {
    const before = await s3.objectKeys();
    const { body, ended, fail } = stalling(randomBytes(11 * MIB));
    const writing = storage.write('t1/aborted', body);
    await ended;
    await untilPending(1);
    fail(); // destroyed without an error, as when the client's connection drops
    await expect(writing).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(await s3.pendingUploads()).toEqual([]);
    expect(await s3.objectKeys()).toEqual(before);
  });

  test('a size limit tripping mid-file rejects with that error and leaves nothing stored', async () => {
    const before = await s3.objectKeys();
    const { body, ended, fail } = stalling(randomBytes(6 * MIB));
    const writing = storage.write('t1/too-large', body);
    await ended;
    await untilPending(1);
    fail(Object.assign(new Error('request file too large'), { code: 'FST_REQ_FILE_TOO_LARGE', statusCode: 413 }));
    await expect(writing).rejects.toMatchObject({ code: 'FST_REQ_FILE_TOO_LARGE', statusCode: 413 });
    expect(await s3.pendingUploads()).toEqual([]);
    expect(await s3.objectKeys()).toEqual(before);
  });

  test('a body that fails before a part is full leaves nothing either', async () => {
    const before = await s3.objectKeys();
    const { body, ended, fail } = stalling(randomBytes(100_000));
    const writing = storage.write('t1/early', body);
    await ended;
    fail(new Error('boom'));
    await expect(writing).rejects.toThrow('boom');
    expect(await s3.objectKeys()).toEqual(before);
    expect(await s3.pendingUploads()).toEqual([]);
  });

  test('S3 refusing the write is an `unavailable` AppError, and the body is not left hanging', async () => {
    const elsewhere = new S3Storage(client, { bucket: 'no-such-bucket', prefix: '', partBytes: 5 * MIB, queueSize: 2 });
    const body = chunked(randomBytes(7 * MIB));
    await expect(elsewhere.write('t1/x', body)).rejects.toMatchObject({
      code: 'unavailable',
      status: 503,
      message: expect.stringContaining('NoSuchBucket'),
    });
    expect(body.destroyed).toBe(true);
  });

  test('check sends one HeadBucket and resolves while the bucket is there', async () => {
    sent.length = 0;
    await expect(storage.check()).resolves.toBeUndefined();
    expect(sent).toEqual(['HeadBucketCommand']);
  });

  test('check rejects with an `unavailable` AppError naming the bucket when it does not exist', async () => {
    const elsewhere = new S3Storage(client, { bucket: 'no-such-bucket', prefix: '', partBytes: 5 * MIB, queueSize: 2 });
    await expect(elsewhere.check()).rejects.toMatchObject({
      code: 'unavailable',
      status: 503,
      message: expect.stringContaining('no-such-bucket (NotFound'),
    });
  });

  test('check gives up when its signal aborts', async () => {
    await expect(storage.check(AbortSignal.abort(new Error('timeout')))).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('AbortError'),
    });
  });

  test('a key that could escape its prefix is refused before anything is sent', async () => {
    await expect(storage.write('../outside', chunked(Buffer.from('x')))).rejects.toMatchObject({ code: 'bad_request' });
    await expect(storage.read('/abs')).rejects.toMatchObject({ code: 'bad_request' });
  });
});
