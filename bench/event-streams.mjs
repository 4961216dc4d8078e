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
// (`npm run build`). It makes a tenant and API key with the admin command, as bench/run.mjs does.
// Environment: BENCH_DATABASE_URL, REDIS_URL, as bench/run.mjs.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  apiClient,
  createTenantKey,
  databaseUrl,
  mb,
  migrate,
  opt,
  percentile,
  processEnv,
  reporter,
  rssOf,
  SERVER,
  sleep,
  startProcess,
  stopProcesses,
  waitReady,
} from './lib.mjs';

const STREAMS = Number(opt('streams', 1000));
const JOBS = Number(opt('jobs', 10));
const ROWS = Number(opt('rows', 20000));
const IDLE_SECONDS = Number(opt('idle-seconds', 30));
const HEARTBEAT_MS = Number(opt('heartbeat-ms', 15000));
const PORT = Number(opt('port', 3901));
const BASE = `http://127.0.0.1:${PORT}`;
const DB = 'sluice_bench_events';
const { report } = reporter(52);

const admin = new pg.Client({ connectionString: SERVER });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
const storageDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-events-'));
const env = processEnv(PORT, databaseUrl(DB), `sluice-bench-events-${process.pid}`, {
  STORAGE_DIR: storageDir,
  METRICS_PORT: '0',
  EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS),
});
migrate(env);
const apiKey = createTenantKey(env);
const api = apiClient(BASE, apiKey);

const procs = { api: startProcess('api', env) };
const streams = [];
try {
  await waitReady(BASE);
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
  const rssBefore = rssOf(procs.api.pid);
  let firstEvents = 0;
  for (let i = 0; i < STREAMS; i++) {
    const jobId = jobIds[i % JOBS];
    const s = { jobId, events: 0, endAt: undefined };
    await new Promise((resolve, reject) => {
      const req = http.get(`${BASE}/jobs/${jobId}/events`, { agent: false, headers: { authorization: `Bearer ${apiKey}` } }, (res) => {
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
  const rssOpen = rssOf(procs.api.pid);
  report('API RSS before / with the streams open', `${mb(rssBefore)} MB / ${mb(rssOpen)} MB`);
  report('API memory per open stream', `${((rssOpen - rssBefore) / 1024 / STREAMS).toFixed(1)} KB`);

  const xacts = async () =>
    Number((await admin.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [DB])).rows[0].n);
  const x0 = await xacts();
  await sleep(IDLE_SECONDS * 1000);
  const idleTx = ((await xacts()) - x0) / IDLE_SECONDS;
  report(
    `DB transactions/s while idle (heartbeat ${HEARTBEAT_MS / 1000} s)`,
    `${idleTx.toFixed(1)} (${STREAMS} streams over ${JOBS} jobs: one read per job per heartbeat)`,
  );

  procs.worker = startProcess('worker', env);
  const deadline = Date.now() + 600_000;
  while (streams.some((s) => s.endAt === undefined)) {
    if (Date.now() > deadline) throw new Error('streams did not all end');
    await sleep(50);
  }
  const db = new pg.Client({ connectionString: databaseUrl(DB) });
  await db.connect();
  const { rows } = await db.query('SELECT id, extract(epoch FROM finished_at) * 1000 AS finished FROM ingestion_jobs');
  await db.end();
  const finished = new Map(rows.map((r) => [r.id, Number(r.finished)]));
  const lags = streams.map((s) => s.endAt - finished.get(s.jobId)).sort((a, b) => a - b);
  report('job end → `end` at the client, p50 / p95 / max', [50, 95, 100].map((p) => `${Math.round(percentile(lags, p))} ms`).join(' / '));
  const counts = streams.map((s) => s.events).sort((a, b) => a - b);
  report('events per stream (progress + end), min / median / max', `${counts[0]} / ${percentile(counts, 50)} / ${counts.at(-1)}`);
} finally {
  for (const s of streams) s.req?.destroy();
  await stopProcesses(Object.values(procs));
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
  await rm(storageDir, { recursive: true, force: true });
}
