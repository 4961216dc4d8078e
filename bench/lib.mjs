// What the benchmarks share: their command line, the database and Redis they use, starting
// and stopping the real API and worker processes, reading those processes' memory, and
// printing and recording the figures. Each bench is one process, so the state kept here
// (whether the processes are being stopped) is that bench's alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROCESSES } from '../scripts/processes.mjs';

/** The repository's root, which the benches' paths (builds, data, docs) are relative to. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The bench's own command-line arguments, as given (docs/benchmarks.md repeats them).
const args = process.argv.slice(2);

/** The value after `--name` on the command line, or `fallback` when the flag is absent. */
export function opt(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
}

/** Whether the valueless switch `--name` is on the command line. */
export function flag(name) {
  return args.includes(`--${name}`);
}

/** The PostgreSQL server the benches may create and drop their databases on. */
export const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// The Redis the benches' API and worker share their queues through.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The URL of database `name` on SERVER: the benches use their own databases on it. */
export function databaseUrl(name) {
  return Object.assign(new URL(SERVER), { pathname: `/${name}` }).toString();
}

/**
 * Runs SQL (or psql's own commands, such as `\copy`) with the `psql` command against `url`,
 * one `-c` per command, stopping at the first error. Returns the output unaligned, without
 * headers and trimmed, so a one-value answer is the value and a row splits on `|`.
 */
export function psql(url, ...commands) {
  const result = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-Atq', ...commands.flatMap((c) => ['-c', c])], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** This machine's processors, as "2 × model", for the line that says where figures come from. */
export function cpuSummary() {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`;
}

/** A count or rate rounded to a whole number with thousands separators: 1,234,567. */
export function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes in MiB with one decimal, as the benches print memory and file sizes. */
export function mb(bytes) {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** The p-th percentile (0–100) of ascending `sorted`, by the nearest rank below. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Resolves after `ms` milliseconds: the benches poll the API and the database. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A `report(label, value)` that prints one figure per line, values aligned at `width`, and
 * the `lines` it printed, which the benches that keep a record write to docs/benchmarks.md.
 */
export function reporter(width) {
  const lines = [];
  const report = (label, value) => {
    const line = `${label.padEnd(width)} ${value}`;
    lines.push(line);
    console.log(line);
  };
  return { report, lines };
}

/**
 * The environment the API and worker run with in a bench: production mode on loopback port
 * `port`, the database at `dbUrl`, queues under `queuePrefix` (so a bench never meets another
 * run's jobs), quiet logs, and the bench's own `extra` settings.
 */
export function processEnv(port, dbUrl, queuePrefix, extra) {
  return {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: dbUrl,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    LOG_LEVEL: 'warn',
    LOG_HTTP: 'false',
    ...extra,
  };
}

/** Creates or updates the schema of `env`'s database with the CLI's migrate command, as a deployment does. */
export function migrate(env) {
  const result = spawnSync(process.execPath, [path.join(root, 'apps/cli/dist/migrate.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error('migration failed');
}

/** Creates the tenant "bench" in `env`'s database with the admin command; returns its API key, which every tenant route needs. */
export function createTenantKey(env) {
  const result = spawnSync(process.execPath, [path.join(root, 'apps/cli/dist/admin.js'), 'tenant', 'create', 'bench', '--json'], {
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`tenant creation failed: ${result.stderr}`);
  return JSON.parse(result.stdout).key;
}

let stopping = false;

/**
 * Starts the process `name` of scripts/processes.mjs (api or worker) with `env`, as `npm
 * start` does, so its figures are a deployment's. A process that exits before stopProcesses
 * ends the bench, since its figures would be wrong.
 */
export function startProcess(name, env) {
  const { script, nodeArgs } = PROCESSES[name];
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, script)], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`bench: ${name} exited (${signal ?? code})`);
      process.exit(1);
    }
  });
  return proc;
}

/** Stops the processes startProcess started (SIGTERM, a clean shutdown) and resolves once all have exited. */
export async function stopProcesses(procs) {
  stopping = true;
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((resolve) => (p.exitCode !== null ? resolve() : p.once('exit', resolve)))));
}

/** The resident memory of process `pid` in bytes, from /proc; 0 once it is gone. */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs `work` and samples the RSS of each of `procs` (name → process) every 20 ms; resolves with its result and each peak. */
export async function withPeakRss(procs, work) {
  const peaks = Object.fromEntries(Object.keys(procs).map((k) => [k, 0]));
  const timer = setInterval(() => {
    for (const [name, p] of Object.entries(procs)) peaks[name] = Math.max(peaks[name], rssOf(p.pid));
  }, 20);
  try {
    const result = await work();
    return { result, peaks };
  } finally {
    clearInterval(timer);
  }
}

/**
 * A JSON client for the API at `base`: `api(pathname, init)` resolves with the answer's body,
 * sending API key `key` when there is one, and throws on an error status with what came back.
 */
export function apiClient(base, key) {
  const auth = key === undefined ? {} : { authorization: `Bearer ${key}` };
  return async (pathname, init) => {
    const res = await fetch(`${base}${pathname}`, { ...init, headers: { ...init?.headers, ...auth } });
    const body = await res.json();
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${pathname}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
}

/** Waits until the API at `base` answers /ready (its database and Redis reachable), asking every 100 ms up to `attempts` times. */
export async function waitReady(base, attempts = 200) {
  for (let i = 0; i < attempts; i++) {
    const res = await fetch(new URL('/ready', base)).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.ok) return;
    await sleep(100);
  }
  throw new Error('the API did not become ready');
}

/**
 * Writes this run into docs/benchmarks.md between the markers `begin` and `end`, replacing
 * the run before (or appended with its markers when the doc has none), so the doc always
 * shows the latest figures with the command (`npm run script` and this run's arguments),
 * date and `machine` that produced them.
 */
export function writeLatestRun({ script, begin, end, machine, lines }) {
  const command = `npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const doc = path.join(root, 'docs', 'benchmarks.md');
  const previous = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  const block = [
    begin,
    `Run on ${new Date().toISOString().slice(0, 10)}: \`${command}\``,
    '',
    `Machine: ${machine}`,
    '',
    '```',
    ...lines,
    '```',
    end,
  ].join('\n');
  const at = previous.indexOf(begin);
  const until = previous.indexOf(end);
  writeFileSync(
    doc,
    at !== -1 && until !== -1 ? previous.slice(0, at) + block + previous.slice(until + end.length) : `${previous}\n${block}\n`,
  );
  console.log(`written to ${path.relative(root, doc)}`);
}
