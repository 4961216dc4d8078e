import { buildApp } from '@sluice/api';
import { loadConfig, type Config } from '@sluice/config';
import { createIngestWorker, workerSettings, type IngestWorker } from '@sluice/ingest';
import { createLogger } from '@sluice/logging';
import { createDeps, type Deps } from '@sluice/runtime';
import type { FastifyInstance } from 'fastify';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, testQueuePrefix } from './database.js';
import { startS3, type TestS3 } from './s3.js';

/** Where the stack keeps uploads: a temporary directory, or an s3rver of its own. */
export type TestStorage = 'disk' | 's3';

export interface TestStack {
  baseUrl: string;
  config: Config;
  deps: Deps;
  app: FastifyInstance;
  storageDir: string;
  /** The stack's S3 server when it stores on S3. */
  s3: TestS3 | undefined;
  /** Every stored upload's key (paths under `storageDir`, or object keys in the bucket), sorted. */
  storedKeys(): Promise<string[]>;
  /** Starts the in-process worker (started by default). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface JobBody {
  id: string;
  status: string;
  counts: Record<'rows' | 'valid' | 'invalid' | 'inserted' | 'updated' | 'unchanged', number>;
  error: { code: string; message: string; line?: number | null } | null;
  [key: string]: unknown;
}

/**
 * The API on a real loopback port and a real BullMQ worker, on a database and a queue
 * prefix of the test file's own. Everything it opens, `close` closes.
 */
export async function startTestStack(
  env: Record<string, string> = {},
  options: { worker?: boolean; storage?: TestStorage } = {},
): Promise<TestStack> {
  const database = await createTestDatabase();
  const storageDir = await mkdtemp(path.join(tmpdir(), 'sluice-test-'));
  const s3 = options.storage === 's3' ? await startS3() : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: process.env.TEST_REDIS_URL,
    QUEUE_PREFIX: testQueuePrefix(),
    STORAGE_DIR: storageDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JOB_BACKOFF_MS: '50',
    JOB_ATTEMPTS: '3',
    ...s3?.env,
    ...env,
  });
  const logger = createLogger({ level: 'error', service: 'test', silent: process.env.TEST_LOGS !== '1' });
  const deps = createDeps(config, 'worker', logger);
  const apiDeps = createDeps(config, 'api', logger);
  const retry = { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs };
  const app = await buildApp({ ...apiDeps, retry });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');

  let worker: IngestWorker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    if (worker !== undefined) return;
    worker = createIngestWorker(
      { db: deps.database.db, pool: deps.database.pool, storage: deps.storage, logger, batch: config.batch },
      { connection: deps.redis, ...workerSettings(config) },
    );
    running = worker.worker.run();
    await worker.worker.waitUntilReady();
  };
  const stopWorker = async () => {
    await worker?.close();
    await running;
    worker = undefined;
  };
  if (options.worker !== false) await startWorker();

  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    config,
    deps,
    app,
    storageDir,
    s3,
    storedKeys: async () => {
      if (s3 !== undefined) return s3.objectKeys();
      const entries = await readdir(storageDir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => path.relative(storageDir, path.join(e.parentPath, e.name)))
        .sort();
    },
    startWorker,
    stopWorker,
    close: async () => {
      await stopWorker();
      await app.close();
      await apiDeps.queue.obliterate({ force: true }).catch(() => undefined);
      await apiDeps.close();
      await deps.close();
      await database.drop();
      await s3?.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** POSTs JSON and returns status, headers and parsed body. */
export async function postJson(stack: TestStack, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(stack.baseUrl + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

export async function getJson(stack: TestStack, url: string, headers: Record<string, string> = {}) {
  const res = await fetch(stack.baseUrl + url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

/** Uploads `content` as a multipart file, with `fields` sent before it. */
export async function upload(
  stack: TestStack,
  fileName: string,
  content: string | Uint8Array,
  fields: Record<string, string>,
  options: { headers?: Record<string, string>; contentType?: string } = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([content], { type: options.contentType ?? 'application/octet-stream' }), fileName);
  const res = await fetch(`${stack.baseUrl}/upload`, { method: 'POST', body: form, headers: options.headers ?? {} });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Polls the job until it reaches a final status, and returns it. */
export async function waitForJob(stack: TestStack, id: string, timeoutMs = 30_000): Promise<JobBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson(stack, `/jobs/${id}`);
    if (TERMINAL.has(body.status as string)) return body as JobBody;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${String(body.status)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const CUSTOMERS = {
  name: 'customers',
  key: ['email'],
  fields: [
    { name: 'email', type: 'email', required: true, aliases: ['E-mail', 'email_address'] },
    { name: 'name', type: 'string', maxLength: 200 },
    { name: 'signup_date', type: 'date' },
    { name: 'amount', type: 'number', min: 0 },
    { name: 'country', type: 'enum', values: ['DE', 'FR', 'US'] },
    { name: 'active', type: 'boolean' },
  ],
};
