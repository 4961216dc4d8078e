import { buildApp } from '@sluice/api';
import { createTenant } from '@sluice/auth';
import { loadConfig, type Config } from '@sluice/config';
import { createIngestWorker, createSourceTickWorker, workerSettings, type IngestWorker, type SourceTickWorker } from '@sluice/ingest';
import { createLogger } from '@sluice/logging';
import { createDatabase, type Database, type DB } from '@sluice/db';
import { createMetricsRegistry, IngestMetrics, type Registry } from '@sluice/metrics';
import { createDeps, type Deps } from '@sluice/runtime';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
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
  /** The database as its owner sees it, past row-level security: for a test's own assertions. */
  db: Kysely<DB>;
  /** The tenant the stack created, and its API key, which requests to `baseUrl` carry by default. */
  tenantId: string;
  apiKey: string;
  app: FastifyInstance;
  storageDir: string;
  /** The in-process worker's metrics (what the worker serves at its METRICS_PORT). */
  workerMetrics: Registry;
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

/** `fetch` as it was before any stack added its key: for requests that must go without one. */
export const anonymousFetch: typeof fetch = globalThis.fetch;

/**
 * Makes requests to `baseUrl` carry `key` unless they bring their own Authorization or
 * X-API-Key header, so tests read as a client with a key would write them. Returns the undo.
 */
function authenticateRequestsTo(baseUrl: string, key: string): () => void {
  const previous = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(baseUrl)) return previous(input, init);
    const headers = new Headers(init?.headers);
    if (!headers.has('authorization') && !headers.has('x-api-key')) headers.set('authorization', `Bearer ${key}`);
    return previous(input, { ...init, headers });
  };
  return () => {
    globalThis.fetch = previous;
  };
}

/**
 * The API on a real loopback port and a real BullMQ worker, on a database and a queue
 * prefix of the test file's own, with a tenant and its key. Everything it opens, `close`
 * closes.
 */
export async function startTestStack(
  env: Record<string, string> = {},
  options: { worker?: boolean; onRoute?: (route: RouteOptions) => void; storage?: TestStorage } = {},
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
  const owner: Database = createDatabase({ url: database.url, poolMax: 2, applicationName: 'sluice-test' });
  const { tenant, key } = await createTenant(apiDeps.database.db, 'test');
  const app = await buildApp({ ...apiDeps, retry }, options.onRoute === undefined ? {} : { onRoute: options.onRoute });
  const workerMetrics = createMetricsRegistry('sluice-worker');
  const metrics = new IngestMetrics(workerMetrics, { concurrency: config.worker.concurrency });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const unauthenticate = authenticateRequestsTo(baseUrl, key);

  let worker: IngestWorker | undefined;
  let ticks: SourceTickWorker | undefined;
  let running: Promise<unknown> | undefined;
  const startWorker = async () => {
    if (worker !== undefined) return;
    worker = createIngestWorker(
      { db: deps.database.db, pool: deps.database.pool, storage: deps.storage, logger, batch: config.batch, files: config.files, pull: config.pull, metrics },
      { connection: deps.redis, ...workerSettings(config) },
    );
    ticks = createSourceTickWorker(
      { db: deps.database.db, queue: deps.queue, sourceQueue: deps.sourceQueue, retry, logger },
      { connection: deps.redis, prefix: config.queuePrefix },
    );
    running = Promise.all([worker.worker.run(), ticks.worker.run()]);
    await Promise.all([worker.worker.waitUntilReady(), ticks.worker.waitUntilReady()]);
  };
  const stopWorker = async () => {
    await Promise.all([worker?.close(), ticks?.close()]);
    await running;
    worker = undefined;
    ticks = undefined;
  };
  if (options.worker !== false) await startWorker();

  return {
    baseUrl,
    config,
    deps,
    db: owner.db,
    tenantId: tenant.id,
    apiKey: key,
    app,
    storageDir,
    workerMetrics,
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
      unauthenticate();
      await stopWorker();
      await app.close();
      await apiDeps.queue.obliterate({ force: true }).catch(() => undefined);
      await apiDeps.sourceQueue.obliterate({ force: true }).catch(() => undefined);
      await apiDeps.close();
      await deps.close();
      await owner.close();
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
