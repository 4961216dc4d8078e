// Sluice's push benchmark: many clients pushing single records to POST /ingest, through the
// real API and worker processes (or a stack already running, with --url).
//
//   npm run bench:push                          # 50 clients for 20 s, own API + worker
//   npm run bench:push -- --clients 50 --seconds 30
//   npm run bench:push -- --url http://127.0.0.1:3000 --database-url postgres://…/sluice --key sluice_…
//   npm run bench:push -- --defer-worker        # the worker starts after the pushes: the accept path alone
//
// Each client sends one JSON record, waits for the answer, and sends the next (a closed
// loop, as a service that pushes as things happen would). It prints records/s accepted
// (202), accept latency percentiles, how the pushes coalesced into jobs, then waits until
// the worker has run every job and checks in PostgreSQL that every accepted record landed
// exactly once: one record per accepted id, and the jobs' counters summing to the accepted
// count with nothing rejected. Writes the run to docs/benchmarks.md.
//
// Its own stack makes a tenant and key with the admin command, and runs with the default
// settings (the per-key rate limit, 5,000 requests/s, included).
//
// Environment: BENCH_DATABASE_URL (a server where it may create databases; default
// postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (default redis://127.0.0.1:6379).
import { rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  cpuSummary,
  createTenantKey,
  databaseUrl,
  flag,
  fmt,
  migrate,
  opt,
  percentile,
  processEnv,
  psql,
  reporter,
  root,
  sleep,
  startProcess,
  stopProcesses,
  waitReady,
  writeLatestRun,
} from './lib.mjs';

const CLIENTS = Number(opt('clients', 50));
const SECONDS = Number(opt('seconds', 20));
const PORT = Number(opt('port', 3901));
const TARGET_URL = opt('url', undefined);
const DEFER_WORKER = flag('defer-worker');
const DATABASE_URL = opt('database-url', TARGET_URL === undefined ? databaseUrl('sluice_bench_push') : undefined);
if (DATABASE_URL === undefined) throw new Error('--url needs --database-url (to check that every record landed)');
const BASE = TARGET_URL ?? `http://127.0.0.1:${PORT}`;
const { report, lines } = reporter(40);

// ---------------------------------------------------------------- stack
const procs = [];
const storageDir = path.join(root, 'bench-data', 'push-uploads');
let startWorker = () => undefined;
let apiKey = opt('key', process.env.SLUICE_KEY);
if (TARGET_URL !== undefined && apiKey === undefined) throw new Error('--url needs --key (or SLUICE_KEY): a tenant API key');
if (TARGET_URL === undefined) {
  psql(databaseUrl('postgres'), 'DROP DATABASE IF EXISTS sluice_bench_push WITH (FORCE)');
  rmSync(storageDir, { recursive: true, force: true });
  const env = processEnv(PORT, DATABASE_URL, `sluice-bench-push-${process.pid}`, { STORAGE_DIR: storageDir });
  migrate(env);
  apiKey = createTenantKey(env);
  procs.push(startProcess('api', env));
  if (!DEFER_WORKER) procs.push(startProcess('worker', env));
  startWorker = () => procs.push(startProcess('worker', env));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
function send(method, pathname, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      new URL(pathname, BASE),
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': data.length }),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode, body: text.length > 0 ? JSON.parse(text) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${pathname}: no answer within 30 s`)));
    req.end(data);
  });
}

// ---------------------------------------------------------------- run
const load = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
console.log(`Sluice push benchmark: ${CLIENTS} clients × ${SECONDS} s, single records; ${cpuSummary()}; load average before: ${load}`);

try {
  await waitReady(BASE, 300);
  const dataset = `bench_push_${process.pid}`;
  const created = await send('POST', '/datasets', {
    name: dataset,
    key: ['id'],
    fields: [
      { name: 'id', type: 'string', required: true },
      { name: 'client', type: 'integer', required: true },
      { name: 'seq', type: 'integer', required: true },
      { name: 'email', type: 'email' },
      { name: 'amount', type: 'number', min: 0 },
      { name: 'sent_at', type: 'datetime' },
    ],
  });
  if (created.status !== 201) throw new Error(`dataset: ${created.status} ${JSON.stringify(created.body)}`);

  const latencies = [];
  const jobs = new Set();
  let accepted = 0;
  let refused = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const client = async (c) => {
    for (let seq = 1; performance.now() < deadline; seq++) {
      const record = {
        id: `${c}-${seq}`,
        client: c,
        seq,
        email: `c${c}.s${seq}@example.com`,
        amount: seq % 100,
        sent_at: new Date().toISOString(),
      };
      const t0 = performance.now();
      const res = await send('POST', `/ingest?dataset=${dataset}`, record);
      latencies.push(performance.now() - t0);
      if (res.status === 202) {
        accepted++;
        jobs.add(res.body.id);
      } else refused++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => percentile(latencies, p);

  const rate = accepted / elapsed;
  const p99 = pct(99);
  report('accepted (202)', `${fmt(accepted)} records in ${elapsed.toFixed(1)} s; refused ${refused}`);
  report('records/s accepted', `${fmt(rate)} (target ≥ 2,000) ${rate >= 2000 ? 'met' : 'NOT met'}`);
  report(
    'accept latency p50 / p95 / p99 / max',
    `${pct(50).toFixed(1)} / ${pct(95).toFixed(1)} / ${p99.toFixed(1)} / ${latencies.at(-1).toFixed(1)} ms (p99 target < 100 ms) ${p99 < 100 ? 'met' : 'NOT met'}`,
  );
  report('jobs (batches) created', `${fmt(jobs.size)}, ${(accepted / jobs.size).toFixed(1)} records per job on average`);

  // Every accepted record must land exactly once: wait for the worker to finish every job.
  if (DEFER_WORKER) startWorker();
  const drainStart = performance.now();
  const datasetId = psql(DATABASE_URL, `SELECT id FROM datasets WHERE name = '${dataset}'`);
  for (;;) {
    const open = Number(
      psql(DATABASE_URL, `SELECT count(*) FROM ingestion_jobs WHERE dataset_id = '${datasetId}' AND status IN ('queued', 'processing')`),
    );
    if (open === 0) break;
    if (performance.now() - drainStart > 600_000) throw new Error(`${open} jobs still open after 10 minutes`);
    await sleep(250);
  }
  const drain = (performance.now() - drainStart) / 1000;
  const [records, distinctIds, rows, inserted, invalid, failed, jobRows] = psql(
    DATABASE_URL,
    `SELECT (SELECT count(*) FROM records WHERE dataset_id = '${datasetId}'),
            (SELECT count(DISTINCT data->>'id') FROM records WHERE dataset_id = '${datasetId}'),
            coalesce(sum(rows_seen), 0), coalesce(sum(rows_inserted), 0), coalesce(sum(rows_invalid), 0),
            count(*) FILTER (WHERE status <> 'completed'), count(*)
     FROM ingestion_jobs WHERE dataset_id = '${datasetId}'`,
  )
    .split('|')
    .map(Number);
  report('worker caught up', `${drain.toFixed(1)} s after the last push; ${fmt(jobRows)} jobs, ${failed} not completed`);
  const exact =
    records === accepted && distinctIds === accepted && rows === accepted && inserted === accepted && invalid === 0 && failed === 0;
  report(
    'landed exactly once',
    `${fmt(records)} records (${fmt(distinctIds)} distinct ids), jobs read ${fmt(rows)} rows, inserted ${fmt(inserted)}, rejected ${invalid}; accepted ${fmt(accepted)} ${exact ? 'met' : 'NOT met'}`,
  );
  if (!exact) process.exitCode = 1;
} finally {
  agent.destroy();
  await stopProcesses(procs);
  if (TARGET_URL === undefined) rmSync(storageDir, { recursive: true, force: true });
}

writeLatestRun({
  script: 'bench:push',
  begin: '<!-- push latest run -->',
  end: '<!-- push end of latest run -->',
  machine: `${cpuSummary()}, load average before the run ${load}; PostgreSQL, Redis, the API, the worker and the clients on the same machine; Node ${process.version}.`,
  lines,
});
