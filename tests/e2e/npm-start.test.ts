import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../helpers/net.js';
import { createTestDatabase, testQueuePrefix } from '../helpers/database.js';

// The service as a user runs it: `npm start` (scripts/sluice.mjs start) migrates, then runs
// the API and the worker as two processes; a file goes in over HTTP and rows come out of
// PostgreSQL; Ctrl-C stops both cleanly.

const root = path.resolve(import.meta.dirname, '../..');
let proc: ChildProcess;
let output = '';
let baseUrl: string;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let storageDir: string;
let exited: Promise<number | null>;
let env: NodeJS.ProcessEnv;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  // A fresh database that `npm start` must create and migrate itself.
  database = await createTestDatabase();
  const url = new URL(database.url);
  url.pathname = `${url.pathname}_fresh`;
  storageDir = await mkdtemp(path.join(tmpdir(), 'sluice-e2e-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  env = {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url.toString(),
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: testQueuePrefix(),
      STORAGE_DIR: storageDir,
      LOG_LEVEL: 'info',
  };
  proc = spawn(process.execPath, [path.join(root, 'scripts/sluice.mjs'), 'start'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as in a terminal
  });
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  database.url = url.toString();
  await until('the API to be ready', async () => ((await fetch(`${baseUrl}/ready`)).ok ? true : undefined), 120_000);
}, 180_000);

afterAll(async () => {
  if (proc.exitCode === null) process.kill(-proc.pid!, 'SIGKILL');
  await exited;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(database.url).pathname.slice(1)} WITH (FORCE)`).finally(() => admin.end());
  await database.drop();
  await rm(storageDir, { recursive: true, force: true });
});

test('a file uploaded over HTTP lands in PostgreSQL, its request id follows it into the worker, and Ctrl-C stops both processes', async () => {
  // A tenant and its key, made by the admin command as the README shows.
  const created = await promisify(execFile)('npm', ['run', 'admin', '--', 'tenant', 'create', 'e2e', '--json'], { cwd: root, env });
  const { tenant, key } = JSON.parse(created.stdout) as { tenant: { id: string; name: string }; key: string };
  expect(tenant.name).toBe('e2e');
  const auth = { authorization: `Bearer ${key}` };
  expect((await fetch(`${baseUrl}/datasets`)).status).toBe(401);

  const dataset = {
    name: 'people',
    key: ['email'],
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'bio', type: 'string' },
      { name: 'born', type: 'date' },
    ],
  };
  expect((await fetch(`${baseUrl}/datasets`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(dataset) })).status).toBe(201);

  const csv = 'email,bio,born\r\nA@Example.com,"two\r\nlines",1990-01-02\r\nbad,x,1990-02-30\r\nb@example.com,plain,02.03.1991\r\n';
  const form = new FormData();
  form.append('dataset', 'people');
  form.append('file', new Blob([csv]), 'people.csv');
  const res = await fetch(`${baseUrl}/upload`, { method: 'POST', body: form, headers: { ...auth, 'x-request-id': 'e2e-trace-42' } });
  expect(res.status).toBe(202);
  expect(res.headers.get('x-request-id')).toBe('e2e-trace-42');
  const { id } = (await res.json()) as { id: string };

  const job = await until('the job to complete', async () => {
    const body = (await (await fetch(`${baseUrl}/jobs/${id}`, { headers: auth })).json()) as { status: string; counts: Record<string, number> };
    return body.status === 'completed' || body.status === 'failed' ? body : undefined;
  });
  expect(job.status).toBe('completed');
  expect(job.counts).toEqual({ rows: 3, valid: 2, invalid: 1, inserted: 2, updated: 0, unchanged: 0 });

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ data: Record<string, unknown> }>('SELECT data FROM records ORDER BY data->>$1', ['email']);
    expect(rows.map((r) => r.data)).toEqual([
      { email: 'a@example.com', bio: 'two\r\nlines', born: '1990-01-02' },
      { email: 'b@example.com', bio: 'plain', born: '1991-03-02' },
    ]);
    const errors = await client.query<{ row_number: number; line: number; raw: string }>('SELECT row_number::int, line::int, raw FROM validation_errors');
    expect(errors.rows).toEqual([{ row_number: 2, line: 4, raw: 'bad,x,1990-02-30' }]);
  } finally {
    await client.end();
  }

  const logLines = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const traced = logLines.filter((l) => l.correlationId === 'e2e-trace-42').map((l) => `${String(l.service)}: ${String(l.message)}`);
  expect(traced).toEqual(expect.arrayContaining(['sluice-worker: job started', 'sluice-worker: job completed']));
  expect(logLines.some((l) => l.service === 'sluice-api' && l.reqId === 'e2e-trace-42')).toBe(true);

  process.kill(-proc.pid!, 'SIGINT'); // Ctrl-C reaches the whole foreground process group
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((r) => (timer = setTimeout(() => r('still running after 15 s'), 15_000)));
  const code = await Promise.race([exited, deadline]).finally(() => clearTimeout(timer));
  expect(code).toBe(0);
  expect(output).toContain('api stopped');
  expect(output).toContain('worker stopped');
  // The uploaded file stays in storage after the job (retention is the operator's call).
  expect((await readdir(storageDir, { recursive: true })).length).toBeGreaterThan(0);
});
