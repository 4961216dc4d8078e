// What live progress costs: many clients watching jobs over Server-Sent Events
// (GET /jobs/:id/events), against the real API and worker processes.
//
//   node bench/event-streams.mjs                        # 1,000 streams over 10 jobs
//   node bench/event-streams.mjs --streams 200 --jobs 4 --rows 50000
//
// It queues the jobs with no worker running, opens the streams, and measures the API's
// memory per open stream and the database transactions the idle streams cost (heartbeat
// rechecks only: an event wakes only the streams of its job). Then it starts the worker and
// measures how long after a job's end (its row's finished_at) each of its streams gets `end`. Build first
// (`npm run build`). Environment: BENCH_DATABASE_URL, REDIS_URL, as bench/run.mjs.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PROCESSES } from '../scripts/processes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const STREAMS = opt('streams', 1000);
const JOBS = opt('jobs', 10);
const ROWS = opt('rows', 20000);
const IDLE_SECONDS = opt('idle-seconds', 30);
const HEARTBEAT_MS = opt('heartbeat-ms', 15000);
const PORT = opt('port', 3901);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = 'sluice_bench_events';
const dbUrl = Object.assign(new URL(SERVER), { pathname: `/${DB}` }).toString();
const report = (label, value) => console.log(`${label.padEnd(52)} ${value}`);
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const admin = new pg.Client({ connectionString: SERVER });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
const storageDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-events-'));
const env = {
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(PORT),
  HOST: '127.0.0.1',
  DATABASE_URL: dbUrl,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: `sluice-bench-events-${process.pid}`,
  STORAGE_DIR: storageDir,
  METRICS_PORT: '0',
  EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS),
  LOG_LEVEL: 'warn',
  LOG_HTTP: 'false',
};
const run = (script) =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, script)], { env, stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}`))));
  });
await run('apps/cli/dist/migrate.js');

let stopping = false;
const start = (name) => {
  const { script, nodeArgs } = PROCESSES[name];
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, script)], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`bench: ${name} exited (${signal ?? code})`);
      process.exit(1);
    }
  });
  return proc;
};
const api = async (pathname, init) => {
  const res = await fetch(`http://127.0.0.1:${PORT}${pathname}`, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${pathname}: ${res.status} ${JSON.stringify(body)}`);
  return body;
};

const procs = { api: start('api') };
const streams = [];
try {
  for (let i = 0; ; i++) {
    if (
      await api('/ready').then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 200) throw new Error('the API did not become ready');
    await sleep(100);
  }
  await api('/datasets', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'ev',
      key: ['email'],
      fields: [
        { name: 'email', type: 'email', required: true },
        { name: 'n', type: 'integer' },
      ],
    }),
  });
  const csv = `email,n\n${Array.from({ length: ROWS }, (_, i) => `u${i}@example.com,${i}`).join('\n')}\n`;
  const jobIds = [];
  for (let j = 0; j < JOBS; j++) {
    const form = new FormData();
    form.append('dataset', 'ev');
    form.append('file', new Blob([csv]), `ev-${j}.csv`);
    jobIds.push((await api('/upload', { method: 'POST', body: form })).id);
  }

  await sleep(1000);
  const rssBefore = rssMb(procs.api.pid);
  let firstEvents = 0;
  for (let i = 0; i < STREAMS; i++) {
    const jobId = jobIds[i % JOBS];
    const s = { jobId, events: 0, endAt: undefined };
    await new Promise((resolve, reject) => {
      const req = http.get(`http://127.0.0.1:${PORT}/jobs/${jobId}/events`, { agent: false }, (res) => {
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk) => {
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (block.includes('event: progress') || block.includes('event: end')) {
              if (s.events++ === 0) {
                firstEvents++;
                resolve();
              }
            }
            if (block.includes('event: end')) s.endAt = Date.now();
          }
        });
      });
      req.on('error', reject);
      s.req = req;
    });
    streams.push(s);
  }
  report('streams open (first event received)', `${firstEvents} over ${JOBS} jobs`);
  await sleep(2000);
  const rssOpen = rssMb(procs.api.pid);
  report('API RSS before / with the streams open', `${rssBefore.toFixed(1)} MB / ${rssOpen.toFixed(1)} MB`);
  report('API memory per open stream', `${(((rssOpen - rssBefore) * 1024) / STREAMS).toFixed(1)} KB`);

  const xacts = async () =>
    Number((await admin.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [DB])).rows[0].n);
  const x0 = await xacts();
  await sleep(IDLE_SECONDS * 1000);
  const idleTx = ((await xacts()) - x0) / IDLE_SECONDS;
  report(
    `DB transactions/s while idle (heartbeat ${HEARTBEAT_MS / 1000} s)`,
    `${idleTx.toFixed(1)} (${STREAMS} streams over ${JOBS} jobs: one read per job per heartbeat)`,
  );

  procs.worker = start('worker');
  const deadline = Date.now() + 600_000;
  while (streams.some((s) => s.endAt === undefined)) {
    if (Date.now() > deadline) throw new Error('streams did not all end');
    await sleep(50);
  }
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const { rows } = await db.query('SELECT id, extract(epoch FROM finished_at) * 1000 AS finished FROM ingestion_jobs');
  await db.end();
  const finished = new Map(rows.map((r) => [r.id, Number(r.finished)]));
  const lags = streams.map((s) => s.endAt - finished.get(s.jobId)).sort((a, b) => a - b);
  report('job end → `end` at the client, p50 / p95 / max', [50, 95, 100].map((p) => `${Math.round(pct(lags, p))} ms`).join(' / '));
  const counts = streams.map((s) => s.events).sort((a, b) => a - b);
  report('events per stream (progress + end), min / median / max', `${counts[0]} / ${pct(counts, 50)} / ${counts.at(-1)}`);
} finally {
  stopping = true;
  for (const s of streams) s.req?.destroy();
  for (const p of Object.values(procs)) p.kill('SIGTERM');
  await Promise.all(Object.values(procs).map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
  await rm(storageDir, { recursive: true, force: true });
}
