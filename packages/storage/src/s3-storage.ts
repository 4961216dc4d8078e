import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AppError } from '@sluice/errors';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Storage, StoredObject } from './storage.js';
import { assertSafeKey } from './storage-key.js';

/** Where and how {@link S3Storage} writes. */
export interface S3StorageOptions {
  bucket: string;
  /** Prepended to every key: "" or a path ending in "/". */
  prefix: string;
  /** Bytes per multipart part (at least 5 MiB): one upload holds about `queueSize + 1` parts in memory. */
  partBytes: number;
  /** Parts of one upload sent at once. */
  queueSize: number;
}

/** How to reach S3 or an S3-compatible server; credentials come from the SDK's default chain. */
export interface S3ClientOptions {
  region?: string | undefined;
  endpoint?: string | undefined;
  forcePathStyle?: boolean;
}

/**
 * An S3 client for {@link S3Storage}. With an `endpoint` (MinIO, s3rver …) checksums are sent
 * and checked only where S3's API requires them, since third-party servers reject or omit
 * the flexible checksums recent SDKs add by default, and the region defaults to us-east-1.
 */
export function createS3Client(options: S3ClientOptions): S3Client {
  const thirdParty = options.endpoint !== undefined;
  const region = options.region ?? (thirdParty ? 'us-east-1' : undefined);
  return new S3Client({
    ...(region === undefined ? {} : { region }),
    ...(thirdParty
      ? { endpoint: options.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    forcePathStyle: options.forcePathStyle ?? false,
  });
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404)
  );
}

function storageFailure(action: string, key: string, error: unknown): AppError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new AppError('unavailable', `object storage could not ${action} ${key} (${reason})`, { cause: error });
}

/**
 * Objects in an S3 bucket under a prefix. A write streams the body into a multipart upload
 * (`@aws-sdk/lib-storage`) in parts of `partBytes`, at most `queueSize` in flight, so memory
 * stays bounded whatever the file's size, and hashes and counts the bytes on the way.
 *
 * Nothing is left behind by a write that fails: when the body breaks off (the client went
 * away, a size limit tripped) or S3 fails, the upload stops reading and aborts the multipart
 * upload before `write` rejects, so no object and no pending parts remain. An object that was
 * completed and then rejected by the caller is deleted with {@link S3Storage.remove}.
 */
export class S3Storage implements Storage {
  constructor(
    private readonly client: S3Client,
    private readonly options: S3StorageOptions,
  ) {}

  private objectKey(key: string): string {
    assertSafeKey(key);
    return this.options.prefix + key;
  }

  async write(key: string, body: Readable): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    let bodyFailure: { error: unknown } | undefined;
    async function* measured(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          hash.update(chunk);
          sizeBytes += chunk.length;
          yield chunk;
        }
      } catch (error) {
        bodyFailure = { error };
        throw error;
      }
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: objectKey, Body: Readable.from(measured(), { objectMode: false }) },
      partSize: this.options.partBytes,
      queueSize: this.options.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // S3 failed while the body was still coming: stop taking it, as a failed disk write would.
      if (!body.readableEnded) body.destroy();
      if (bodyFailure !== undefined) throw bodyFailure.error;
      throw storageFailure('store', objectKey, error);
    }
    return { key, sizeBytes, sha256: hash.digest('hex') };
  }

  async read(key: string): Promise<Readable> {
    const objectKey = this.objectKey(key);
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: objectKey }));
      if (!(Body instanceof Readable)) throw new Error('the response has no body stream');
      return Body;
    } catch (error) {
      if (isMissing(error)) throw new AppError('not_found', `stored file ${key} is missing`, { cause: error });
      throw storageFailure('read', objectKey, error);
    }
  }

  async remove(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: objectKey }));
    } catch (error) {
      if (isMissing(error)) return;
      throw storageFailure('delete', objectKey, error);
    }
  }

  /**
   * A HeadBucket for the bucket: it rejects (`unavailable`, with S3's reason) when S3 does not
   * answer, the bucket does not exist, or the credentials may not see it. On AWS it needs
   * `s3:ListBucket` on the bucket.
   */
  async check(signal?: AbortSignal): Promise<void> {
    const { bucket } = this.options;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), signal === undefined ? {} : { abortSignal: signal });
    } catch (error) {
      throw storageFailure('reach the bucket', bucket, error);
    }
  }
}
