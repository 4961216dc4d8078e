import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { loadS3 } from '@sluice/storage';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** An S3-compatible server of the test's own, and what a test asks of it. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  client: S3Client;
  /** The env that points Sluice at this server (STORAGE=s3 …). */
  env: Record<string, string>;
  /** Keys of every object in the bucket, sorted. */
  objectKeys(): Promise<string[]>;
  /** Keys of the multipart uploads begun and neither completed nor aborted, sorted. */
  pendingUploads(): Promise<string[]>;
  close(): Promise<void>;
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/**
 * s3rver 3.7 stores a multipart upload's parts in `<bucket>/._S3rver_uploads/<uploadId>/`
 * but answers AbortMultipartUpload and ListMultipartUploads with "not implemented". These
 * two handlers fill that gap over its own store layout, so the SDK's abort works as on S3
 * and a test can ask the server, as it would ask S3, which uploads are still pending.
 */
function multipartGaps(directory: string): KoaMiddleware {
  const uploadsDir = (bucket: string) => path.join(directory, bucket, '._S3rver_uploads');
  const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  return async (ctx, next) => {
    const [, bucket, key] = /^\/([^/]+)\/?(.*)$/.exec(ctx.path) ?? [];
    const uploadId = ctx.query.uploadId;
    if (bucket !== undefined && ctx.method === 'DELETE' && key !== '' && typeof uploadId === 'string') {
      const dir = path.join(uploadsDir(bucket), path.basename(uploadId));
      const known = await readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
      if (known === undefined) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = xml(`<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`);
        return;
      }
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (bucket !== undefined && ctx.method === 'GET' && key === '' && 'uploads' in ctx.query) {
      const ids = await readdir(uploadsDir(bucket)).catch(() => [] as string[]);
      const uploads = await Promise.all(
        ids.map(async (id) => ({ id, key: await readFile(path.join(uploadsDir(bucket), id, 'key'), 'utf8') })),
      );
      ctx.type = 'application/xml';
      ctx.body = xml(
        `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>` +
          uploads.map((u) => `<Upload><Key>${u.key}</Key><UploadId>${u.id}</UploadId></Upload>`).join('') +
          `</ListMultipartUploadsResult>`,
      );
      return;
    }
    await next();
  };
}

/**
 * Starts s3rver on a loopback port with one empty bucket, its data in a temporary directory.
 * The SDK in this process finds s3rver's fixed credentials in the environment, as it would
 * find real ones (Sluice's config never holds credentials).
 */
export async function startS3(bucket = 'sluice-test'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-s3-'));
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
  (server as unknown as { middleware: KoaMiddleware[] }).middleware.unshift(multipartGaps(directory));
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = (await loadS3()).createS3Client({ endpoint, forcePathStyle: true });

  const objectKeys = async () => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token !== undefined);
    return keys.sort();
  };
  const pendingUploads = async () => {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return (page.Uploads ?? []).map((u) => u.Key ?? '').sort();
  };

  return {
    endpoint,
    bucket,
    client,
    // The smallest part S3 allows, so that a test file of a few MiB is a multipart upload.
    env: {
      STORAGE: 's3',
      S3_BUCKET: bucket,
      S3_PREFIX: 'uploads/',
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_PART_BYTES: String(5 * 1024 * 1024),
    },
    objectKeys,
    pendingUploads,
    close: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
