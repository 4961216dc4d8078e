// The API's memory while it streams a large upload to S3 (an s3rver started here, its data in
// a temporary directory): the real API process, started as `npm run start:api` starts it
// (--max-old-space-size=128), STORAGE=s3, one multipart upload of a generated CSV, with a
// tenant and API key made by the admin command.
//
//   npm run build && node bench/s3-upload.mjs             # 1 GiB
//   node bench/s3-upload.mjs --mib 200                     # smaller
//
// Environment: BENCH_DATABASE_URL (a server where it may create databases; default
// postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (default redis://127.0.0.1:6379).
// Prints the upload's time and throughput, the API's peak RSS, and what S3 holds after.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import S3rver from 's3rver';
import {
  apiClient,
  cpuSummary,
  createTenantKey,
  databaseUrl,
  mb,
  migrate,
  opt,
  processEnv,
  psql,
  reporter,
  rssOf,
  startProcess,
  stopProcesses,
  waitReady,
  withPeakRss,
} from './lib.mjs';

const MIB = 1024 * 1024;
const TARGET = Number(opt('mib', 1024)) * MIB;
const PORT = Number(opt('port', 3901));
const BASE = `http://127.0.0.1:${PORT}`;
const { report } = reporter(44);

// ---------------------------------------------------------------- S3
const s3Dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-s3-'));
const bucket = 'sluice-bench';
const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: s3Dir, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
const { port: s3Port } = await s3.run();

// ---------------------------------------------------------------- API
psql(databaseUrl('postgres'), 'DROP DATABASE IF EXISTS sluice_bench_s3 WITH (FORCE)');
const env = processEnv(PORT, databaseUrl('sluice_bench_s3'), `sluice-bench-s3-${process.pid}`, {
  STORAGE: 's3',
  S3_BUCKET: bucket,
  S3_PREFIX: 'uploads/',
  S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
  S3_FORCE_PATH_STYLE: 'true',
  // s3rver's fixed credentials, found by the AWS SDK's default chain like real ones.
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
});
migrate(env);
const apiKey = createTenantKey(env);
const apiProc = startProcess('api', env);
const api = apiClient(BASE, apiKey);

/** Streams a generated CSV of about TARGET bytes as a multipart upload; resolves with the response. */
function uploadGenerated() {
  const head =
    '--XYZ\r\nContent-Disposition: form-data; name="dataset"\r\n\r\nbench_s3\r\n' +
    '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\nid,email,name\n';
  const tail = '\r\n--XYZ--\r\n';
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: PORT,
      path: '/upload',
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ', authorization: `Bearer ${apiKey}` },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    let fileBytes = Buffer.byteLength(head) - head.indexOf('id,email');
    let i = 0;
    const pump = () => {
      while (fileBytes < TARGET) {
        let block = '';
        for (let n = 0; n < 2000; n++, i++) block += `${i},user${i}@example.com,User number ${i}\n`;
        fileBytes += Buffer.byteLength(block);
        if (!req.write(block)) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    req.write(head);
    pump();
  });
}

try {
  await waitReady(BASE);
  await api('/datasets', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench_s3',
      key: ['id'],
      fields: [
        { name: 'id', type: 'integer', required: true },
        { name: 'email', type: 'email' },
        { name: 'name', type: 'string' },
      ],
    }),
  });
  const idle = rssOf(apiProc.pid);
  const started = performance.now();
  const { result: res, peaks } = await withPeakRss({ api: apiProc }, uploadGenerated);
  const seconds = (performance.now() - started) / 1000;
  const peak = peaks.api;
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${JSON.stringify(res.body)}`);
  const size = res.body.file.sizeBytes;
  const key = psql(databaseUrl('sluice_bench_s3'), `SELECT storage_key FROM ingestion_jobs WHERE id = '${res.body.id}'`);
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `uploads/${key}` }));
  client.destroy();
  console.log(`Sluice S3 upload: ${cpuSummary()}; Node ${process.version}; s3rver on loopback`);
  report('upload to S3 (multipart, 8 MiB parts × 2)', `${mb(size)} MiB in ${seconds.toFixed(1)} s (${mb(size / seconds)} MiB/s)`);
  report(
    'API RSS idle / peak during the upload',
    `${mb(idle)} MB / ${mb(peak)} MB (target ≤ 150 MB) ${peak <= 150 * MIB ? 'met' : 'MISSED'}`,
  );
  report(
    'stored object',
    `s3://${bucket}/uploads/${key}: ${head.ContentLength} bytes (${head.ContentLength === size ? 'the size the API measured' : 'MISMATCH'})`,
  );
} finally {
  await stopProcesses([apiProc]);
  await s3.close();
  const redis = new Redis(env.REDIS_URL);
  const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(s3Dir, { recursive: true, force: true });
  psql(databaseUrl('postgres'), 'DROP DATABASE IF EXISTS sluice_bench_s3 WITH (FORCE)');
}
