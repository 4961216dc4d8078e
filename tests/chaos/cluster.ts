// A private Sluice deployment for the chaos suite: its own PostgreSQL (initdb into a temp
// folder, its own port) and Redis (its own port, no persistence), migrated, with the real
// API and worker processes (`node apps/*/dist/main.js`) pointed at them. Everything here may
// be killed, stopped and restarted by a test; `close` (and, as a last resort, the process
// 'exit' hook) stops all of it and removes the temp folders.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { freePort } from '../helpers/net.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PG_BIN = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown by a probe when waiting longer cannot help (the process died, the job ended otherwise). */
export class WaitAborted extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined; throws `message()` (with
 * whatever context the caller adds) once `timeoutMs` has passed. Every wait of the suite
 * goes through here, so none is unbounded.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  options: { everyMs?: number; context?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof WaitAborted) throw new Error(`gave up waiting for ${what}: ${error.message}`);
      lastError = error;
    }
    if (Date.now() > deadline) {
      const context = options.context ? await Promise.resolve(options.context()).catch((e: Error) => `(context failed: ${e.message})`) : '';
      const cause = lastError === undefined ? '' : `\nlast error: ${(lastError as Error).message}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${context ? `\n${context}` : ''}`);
    }
    await sleep(options.everyMs ?? 50);
  }
}

/** Every file under `dir` (recursively), relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string) => {
    let entries;
    try {
      entries = await readdir(path.join(dir, sub), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  };
  await walk('');
  return out.sort();
}

// ---------------------------------------------------------------------------------------
// Processes

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** A child process whose output is kept (in memory and in a log file) for assertions and reports. */
export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  private readonly log: WriteStream;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { env: Record<string, string>; cwd: string; logFile: string },
  ) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (stream: NodeJS.ReadableStream | null) => {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.log.write(chunk);
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.lines.push(line);
        for (const wake of this.waiters) wake();
      });
    };
    take(this.child.stdout);
    take(this.child.stderr);
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        this.log.write(`\n[chaos] ${this.name} exited code=${code} signal=${signal}\n`);
        resolve(this.exit);
      });
      this.child.once('error', (error) => {
        this.log.write(`\n[chaos] ${this.name} spawn error ${error.message}\n`);
        this.exit = { code: -1, signal: null, at: Date.now() };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // exited, exit not yet seen
    }
  }

  /** The last `n` lines of output, for failure messages. */
  tail(n = 25): string {
    return `--- last ${n} lines of ${this.name} (pid ${this.pid}) ---\n${this.lines.slice(-n).join('\n')}`;
  }

  /** Parsed JSON log lines (winston writes one object per line). */
  entries(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log object
      }
    }
    return out;
  }

  /** Waits for a log line matching `pattern` (from line `from` on); returns it. */
  async waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    return waitFor(
      `${this.name} to log ${String(pattern)}`,
      timeoutMs,
      async () => {
        const found = this.lines.slice(from).find((l) => pattern.test(l));
        if (found !== undefined) return found;
        if (!this.alive)
          throw new WaitAborted(
            `${this.name} exited (code ${this.exit?.code}, signal ${this.exit?.signal}) before logging it\n${this.tail()}`,
          );
        return undefined;
      },
      { context: () => this.tail() },
    );
  }

  async waitForExit(timeoutMs: number): Promise<ExitInfo> {
    return waitFor(`${this.name} (pid ${this.pid}) to exit`, timeoutMs, async () => this.exit, { everyMs: 20, context: () => this.tail() });
  }

  /** SIGKILL and wait for the exit (also ends a SIGSTOPped process). */
  async kill9(): Promise<ExitInfo> {
    this.signal('SIGKILL');
    return this.waitForExit(10_000);
  }

  closeLog(): void {
    this.log.end();
  }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

/** A PostgreSQL server of our own, run as the `postgres` OS user (initdb refuses root). */
export class PgServer {
  private running = false;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get isRunning(): boolean {
    return this.running;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private async asPostgres(args: string[], timeoutMs = 60_000): Promise<string> {
    const asRoot = process.getuid?.() === 0;
    const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0]!, args.slice(1)];
    try {
      const { stdout, stderr } = await run(command, argv, { timeout: timeoutMs });
      return stdout + stderr;
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  static async create(root: string): Promise<PgServer> {
    const dir = await mkdtemp(path.join(root, 'pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      await chown(root, uid, gid);
      await chown(dir, uid, gid);
    }
    const server = new PgServer(dir, await freePort());
    await server.asPostgres([
      `${PG_BIN}/initdb`,
      '-D',
      server.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    // Diagnostics for the report: lock waits, and the plan of any statement slower than 1 s.
    const options = [
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=100`,
      '-c log_lock_waits=on -c deadlock_timeout=1s -c log_min_duration_statement=1000',
      '-c shared_preload_libraries=auto_explain -c auto_explain.log_min_duration=1000',
    ].join(' ');
    await this.asPostgres([
      `${PG_BIN}/pg_ctl`,
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
    this.running = true;
  }

  /** `fast` is a clean shutdown; `immediate` is a crash (no checkpoint, recovery on start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.running = false;
    await this.asPostgres([`${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** kill -9 of the postmaster; its backends notice and exit. */
  async kill9(): Promise<void> {
    const pidFile = await readFile(path.join(this.dataDir, 'postmaster.pid'), 'utf8');
    const pid = Number(pidFile.split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    this.running = false;
    await waitFor('the killed postmaster to be gone', 10_000, async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  }

  /** Synchronous crash stop, for the process 'exit' hook. */
  stopNowSync(): void {
    if (!this.running) return;
    this.running = false;
    const args = [`${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-m', 'immediate', '-w', 'stop'];
    try {
      if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore', timeout: 20_000 });
      else execFileSync(args[0]!, args.slice(1), { stdio: 'ignore', timeout: 20_000 });
    } catch {
      // best effort
    }
  }

  async logTail(n = 30): Promise<string> {
    const text = await readFile(path.join(this.dir, 'log'), 'utf8').catch(() => '');
    return `--- last ${n} lines of the PostgreSQL log ---\n${text.split('\n').slice(-n).join('\n')}`;
  }
}

// ---------------------------------------------------------------------------------------
// Redis

/** A Redis of our own: no RDB, no AOF, so a restart comes back empty. */
export class RedisServer {
  proc: Proc | undefined;
  private generation = 0;
  constructor(
    readonly port: number,
    private readonly logDir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.proc?.alive === true;
  }

  async start(): Promise<void> {
    if (this.isRunning) return;
    this.generation++;
    this.proc = new Proc(
      `redis#${this.generation}`,
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: this.logDir, logFile: path.join(this.logDir, 'redis.log') },
    );
    await waitFor(
      `redis on port ${this.port} to answer PING`,
      15_000,
      async () => ((await this.cli('PING')) === 'PONG' ? true : undefined),
      {
        context: () => this.proc?.tail() ?? '',
      },
    );
  }

  /** kill -9 of redis-server; waits until it is gone. */
  async kill(): Promise<void> {
    if (this.proc === undefined) return;
    await this.proc.kill9();
    this.proc.closeLog();
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async flushAll(): Promise<void> {
    const reply = await this.cli('FLUSHALL');
    if (reply !== 'OK') throw new Error(`FLUSHALL answered ${reply}`);
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], { timeout: 5_000 });
    return stdout.trim();
  }
}

// ---------------------------------------------------------------------------------------
// The Sluice deployment

export interface JobBody {
  id: string;
  status: string;
  counts: Record<'rows' | 'valid' | 'invalid' | 'inserted' | 'updated' | 'unchanged', number>;
  error: { code: string; message: string; line?: number | null } | null;
  attempts: number;
  [key: string]: unknown;
}

export interface JobRow {
  status: string;
  checkpoint: number;
  attempts: number;
  rows_seen: number;
  updated_at: Date;
  error: unknown;
}

export const FINAL = new Set(['completed', 'failed', 'cancelled']);

export interface ClusterOptions {
  /** Extra environment for the API and worker processes. */
  env?: Record<string, string>;
}

/**
 * The whole system under test. Tests reach PostgreSQL directly through `db` (a pool of the
 * test's own) to read checkpoints and to check invariants.
 */
export class Cluster {
  readonly workers: Proc[] = [];
  api!: Proc;
  db!: pg.Pool;
  baseUrl = '';
  /** The API key of the cluster's tenant, made by the admin command after migrating. */
  apiKey = '';
  private apiPort = 0;
  private seq = 0;
  private closed = false;
  private readonly exitHook = () => this.closeNowSync();

  private constructor(
    readonly root: string,
    readonly logDir: string,
    readonly storageDir: string,
    readonly pgServer: PgServer,
    readonly redis: RedisServer,
    readonly env: Record<string, string>,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const root = await mkdtemp(path.join(tmpdir(), 'sluice-chaos-'));
    const logDir = path.join(root, 'logs');
    const storageDir = path.join(root, 'storage');
    await mkdir(logDir);
    await mkdir(storageDir);
    let pgServer: PgServer | undefined;
    let redis: RedisServer | undefined;
    try {
      pgServer = await PgServer.create(root);
      redis = new RedisServer(await freePort(), logDir);
      await redis.start();
    } catch (error) {
      if (redis?.proc?.alive === true) await redis.kill();
      pgServer?.stopNowSync();
      await rm(root, { recursive: true, force: true });
      throw error;
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: pgServer.url('sluice_chaos'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'chaos',
      STORAGE_DIR: storageDir,
      LOG_LEVEL: 'debug',
      LOG_HTTP: 'false',
      BATCH_ROWS: '500',
      BATCH_BYTES: String(64 * 1024 * 1024),
      WORKER_CONCURRENCY: '2',
      JOB_ATTEMPTS: '10',
      JOB_BACKOFF_MS: '100',
      SHUTDOWN_GRACE_MS: '10000',
      ...options.env,
    };
    const cluster = new Cluster(root, logDir, storageDir, pgServer, redis, env);
    process.once('exit', cluster.exitHook);
    try {
      await cluster.migrate();
      cluster.apiKey = await cluster.createTenant('chaos');
      cluster.db = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4, connectionTimeoutMillis: 5_000 });
      cluster.db.on('error', () => undefined); // idle clients die when PostgreSQL is restarted
      cluster.apiPort = await freePort();
      cluster.baseUrl = `http://127.0.0.1:${cluster.apiPort}`;
      await cluster.startApi();
      await cluster.startWorker();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  get shutdownGraceMs(): number {
    return Number(this.env.SHUTDOWN_GRACE_MS);
  }

  async migrate(): Promise<void> {
    try {
      await run('node', ['apps/cli/dist/migrate.js'], { cwd: ROOT, env: this.env, timeout: 60_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`migrations failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  /** Creates a tenant with the admin command; returns its API key. */
  async createTenant(name: string): Promise<string> {
    const { stdout } = await run('node', ['apps/cli/dist/admin.js', 'tenant', 'create', name, '--json'], {
      cwd: ROOT,
      env: this.env,
      timeout: 60_000,
    });
    return (JSON.parse(stdout) as { key: string }).key;
  }

  private spawnNode(name: string, script: string, env: Record<string, string> = {}): Proc {
    return new Proc(name, process.execPath, [script], {
      env: { ...this.env, ...env },
      cwd: ROOT,
      logFile: path.join(this.logDir, `${name}.log`),
    });
  }

  async startApi(): Promise<Proc> {
    this.api = this.spawnNode(`api-${++this.seq}`, 'apps/api/dist/main.js', { PORT: String(this.apiPort) });
    await waitFor(
      'the API to answer GET /health',
      30_000,
      async () => {
        if (!this.api.alive) throw new Error('the API exited');
        const res = await fetch(`${this.baseUrl}/health`);
        return res.status === 200 ? true : undefined;
      },
      { context: () => this.api.tail() },
    );
    return this.api;
  }

  /** Starts one more worker process and waits until it says it has started. */
  async startWorker(env: Record<string, string> = {}): Promise<Proc> {
    const worker = this.spawnNode(`worker-${++this.seq}`, 'apps/worker/dist/main.js', env);
    this.workers.push(worker);
    await worker.waitForLine(/"message":"worker started"/, 30_000);
    return worker;
  }

  get liveWorkers(): Proc[] {
    return this.workers.filter((w) => w.alive);
  }

  /** The one live worker; fails when there is not exactly one. */
  get worker(): Proc {
    const live = this.liveWorkers;
    if (live.length !== 1) throw new Error(`expected exactly one live worker, found ${live.length}`);
    return live[0]!;
  }

  /** SIGTERM, then SIGKILL when it outlasts the grace period. */
  async stopWorker(worker: Proc): Promise<ExitInfo> {
    if (!worker.alive) return worker.exit!;
    worker.signal('SIGCONT');
    worker.signal('SIGTERM');
    try {
      return await worker.waitForExit(this.shutdownGraceMs + 5_000);
    } catch {
      return worker.kill9();
    }
  }

  /**
   * Puts the deployment back in its normal shape between cases: PostgreSQL and Redis up,
   * the API up, exactly one running worker. A case that failed half-way leaves no mess for
   * the next one.
   */
  async ensureHealthy(): Promise<void> {
    if (!this.pgServer.isRunning) await this.pgServer.start();
    if (!this.redis.isRunning) await this.redis.start();
    if (!this.api.alive) await this.startApi();
    const live = this.liveWorkers;
    for (const w of live) w.signal('SIGCONT');
    for (const w of live.slice(1)) await this.stopWorker(w);
    if (this.liveWorkers.length === 0) await this.startWorker();
  }

  // -- HTTP --------------------------------------------------------------------------

  async getJson(url: string): Promise<{ status: number; body: Record<string, any> }> {
    const res = await fetch(this.baseUrl + url, { headers: { authorization: `Bearer ${this.apiKey}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  async postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const res = await fetch(this.baseUrl + url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  /** Creates a dataset; returns its id. */
  async createDataset(spec: Record<string, unknown>): Promise<string> {
    const res = await this.postJson('/datasets', spec);
    if (res.status !== 201) throw new Error(`POST /datasets answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  /** POST /upload (dataset field, then the file); returns the job id of the 202. */
  async upload(dataset: string, fileName: string, content: string | Uint8Array): Promise<string> {
    const form = new FormData();
    form.append('dataset', dataset);
    form.append('file', new Blob([content], { type: 'application/octet-stream' }), fileName);
    const res = await fetch(`${this.baseUrl}/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${this.apiKey}` } });
    const body = (await res.json()) as Record<string, any>;
    if (res.status !== 202) throw new Error(`POST /upload answered ${res.status}: ${JSON.stringify(body)}`);
    return body.id as string;
  }

  // -- PostgreSQL, read directly --------------------------------------------------------

  /** A query that rides out a PostgreSQL restart (retries connection errors for up to 30 s). */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return (await this.db.query<R>(text, values)).rows;
      } catch (error) {
        const code = (error as { code?: string }).code;
        const connectionProblem =
          code === undefined ||
          code === 'ECONNREFUSED' ||
          code === 'ECONNRESET' ||
          code === '57P01' ||
          code === '57P03' ||
          code === '08006';
        if (!connectionProblem || Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  }

  async jobRow(jobId: string): Promise<JobRow> {
    const rows = await this.query<JobRow>(
      'SELECT status, checkpoint::int, attempts, rows_seen::int, updated_at, error FROM ingestion_jobs WHERE id = $1',
      [jobId],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`no ingestion_jobs row for ${jobId}`);
    return row;
  }

  /** Polls the checkpoint straight from PostgreSQL until it reaches `row`; fails if the job ends first. */
  async waitForCheckpoint(jobId: string, row: number, timeoutMs: number): Promise<JobRow> {
    return waitFor(
      `job ${jobId} to commit row ${row}`,
      timeoutMs,
      async () => {
        const job = await this.jobRow(jobId);
        if (job.checkpoint >= row) return job;
        if (FINAL.has(job.status))
          throw new WaitAborted(
            `job ${jobId} became ${job.status} at checkpoint ${job.checkpoint} before reaching row ${row}: ${JSON.stringify(job.error)}`,
          );
        this.assertSomeWorkerAlive();
        return undefined;
      },
      { everyMs: 10, context: () => this.describe(jobId) },
    );
  }

  /** Polls GET /jobs/:id until the job is completed, failed or cancelled. */
  async waitForJob(jobId: string, timeoutMs: number): Promise<JobBody> {
    return waitFor(
      `job ${jobId} to reach a final status`,
      timeoutMs,
      async () => {
        const { status, body } = await this.getJson(`/jobs/${jobId}`);
        if (status === 200 && FINAL.has(body.status as string)) return body as JobBody;
        this.assertSomeWorkerAlive();
        return undefined;
      },
      { everyMs: 100, context: () => this.describe(jobId) },
    );
  }

  /**
   * Waiting for a job makes no sense once every worker is gone: fail at once, with the output
   * of the last one to die (a crash's stack trace is the evidence).
   */
  assertSomeWorkerAlive(): void {
    if (this.liveWorkers.length > 0) return;
    const last = [...this.workers].sort((a, b) => (a.exit?.at ?? 0) - (b.exit?.at ?? 0)).at(-1);
    throw new WaitAborted(
      `no worker is running: ${last?.name} exited with code ${last?.exit?.code}, signal ${last?.exit?.signal}\n${last?.tail(30) ?? ''}`,
    );
  }

  /** A field of the job's BullMQ hash in Redis (e.g. `ats`, attempts started), or undefined. */
  async queueJobField(jobId: string, field: string): Promise<string | undefined> {
    const value = await this.redis.cli('HGET', `${this.env.QUEUE_PREFIX}:ingest:${jobId}`, field);
    return value === '' ? undefined : value;
  }

  /** The job as PostgreSQL and BullMQ see it, and the workers' last lines: for failure messages. */
  async describe(jobId: string): Promise<string> {
    const parts: string[] = [];
    try {
      parts.push(`job row: ${JSON.stringify(await this.jobRow(jobId))}`);
    } catch (error) {
      parts.push(`job row unreadable: ${(error as Error).message}`);
    }
    try {
      const hash = await this.redis.cli('HGETALL', `${this.env.QUEUE_PREFIX}:ingest:${jobId}`);
      parts.push(`redis job hash: ${hash.replace(/\n/g, ' ') || '(none)'}`);
    } catch (error) {
      parts.push(`redis unreadable: ${(error as Error).message}`);
    }
    for (const w of this.workers.slice(-2)) parts.push(w.tail(12));
    return parts.join('\n');
  }

  // -- Teardown -------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('exit', this.exitHook);
    const procs = [...this.workers, ...(this.api ? [this.api] : [])];
    for (const p of procs) p.signal('SIGCONT');
    await Promise.all(
      procs.map(async (p) => {
        if (!p.alive) return;
        p.signal('SIGTERM');
        await p.waitForExit(5_000).catch(() => p.kill9());
      }),
    );
    await this.db?.end().catch(() => undefined);
    await this.redis.kill().catch(() => undefined);
    if (this.pgServer.isRunning) await this.pgServer.stop('immediate').catch(() => this.pgServer.stopNowSync());
    for (const p of procs) p.closeLog();
    if (process.env.CHAOS_KEEP_LOGS === '1') {
      const kept = `${this.root}-logs`;
      await rm(kept, { recursive: true, force: true });
      await run('cp', ['-r', this.logDir, kept]).catch(() => undefined);
      await run('cp', [path.join(this.pgServer.dir, 'log'), path.join(kept, 'postgres.log')]).catch(() => undefined);
      console.log(`chaos logs kept in ${kept}`);
    }
    await rm(this.root, { recursive: true, force: true });
  }

  /** Last resort when the test process exits without afterAll: nothing may outlive it. */
  private closeNowSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.workers, this.api, this.redis.proc]) {
      try {
        if (p?.alive === true) process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.pgServer.stopNowSync();
    try {
      execFileSync('rm', ['-rf', this.root]);
    } catch {
      // best effort
    }
  }
}

/** Size of a file, or undefined when it does not exist. */
export async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}
