import { z } from 'zod';

const bytes = z.coerce.number().int().positive();
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const MIB = 1024 ** 2;
/** S3 allows at most this many parts in one multipart upload. */
const S3_MAX_PARTS = 10_000;

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/sluice'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).default(10),
  DATABASE_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain PostgreSQL role name')
    .default('sluice_app'),
  ADMIN_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(300_000),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1_000).default(60_000),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).default('sluice'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  LOG_HTTP: flag.default(true),
  STORAGE: z.enum(['disk', 's3']).default('disk'),
  STORAGE_DIR: z.string().min(1).default('./data/uploads'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)')
    .optional(),
  S3_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._/-]*$/, 'may hold only letters, digits and . _ / -')
    .refine((p) => !p.split('/').includes('..'), 'may not contain ".."')
    .default(''),
  S3_REGION: z.string().min(1).optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  S3_FORCE_PATH_STYLE: flag.default(false),
  S3_PART_BYTES: bytes.min(5 * MIB, 'must be at least 5 MiB (5242880), the smallest part S3 accepts').default(8 * MIB),
  S3_UPLOAD_QUEUE: z.coerce.number().int().min(1).max(16).default(2),
  MAX_UPLOAD_BYTES: bytes.default(10 * 1024 ** 3),
  BATCH_ROWS: z.coerce.number().int().min(1).max(50_000).default(10_000),
  BATCH_BYTES: bytes.default(8 * 1024 ** 2),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(2_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  WORKER_LOCK_MS: z.coerce.number().int().min(5_000).default(60_000),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  WORKER_MAX_STALLED: z.coerce.number().int().min(0).default(5),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  RECONCILE_IDLE_MS: z.coerce.number().int().min(1_000).default(60_000),
  MAX_DECOMPRESSED_BYTES: bytes.default(20 * 1024 ** 3),
  MAX_LINE_CHARS: z.coerce.number().int().min(1_024).default(16 * 1024 ** 2),
  MAX_FIELD_CHARS: z.coerce.number().int().min(1).default(1024 ** 2),
  MAX_COLUMNS: z.coerce.number().int().min(1).default(2_000),
  MAX_JSON_DEPTH: z.coerce.number().int().min(1).max(1_000).default(32),
  QUEUE_METRICS_NAMESPACE: z
    .string()
    .regex(/^(?!AWS\/)[\w.\-/#: ]{1,255}$/, 'a CloudWatch namespace: letters, digits and . - _ / # : space, not starting with AWS/')
    .optional(),
  QUEUE_METRICS_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  QUEUE_METRICS_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  EVENTS_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  PUSH_MAX_BYTES: bytes.default(10 * 1024 ** 2),
  PUSH_LINGER_MS: z.coerce.number().int().min(0).max(10_000).default(10),
  PUSH_QUIET_MS: z.coerce.number().int().min(0).max(10_000).default(2),
  PUSH_BATCH_RECORDS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  PUSH_FLUSHES: z.coerce.number().int().min(1).max(64).default(4),
  PUSH_JOB_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  PULL_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  PULL_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  PULL_BACKOFF_MS: z.coerce.number().int().min(0).default(1_000),
  PULL_MAX_PAGES: z.coerce.number().int().min(1).default(10_000),
});

/** The schema with the rules that span variables. */
const settings = schema.superRefine((e, ctx) => {
  if (e.STORAGE !== 's3') return;
  if (e.S3_BUCKET === undefined) ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when STORAGE=s3' });
  if (e.MAX_UPLOAD_BYTES > e.S3_PART_BYTES * S3_MAX_PARTS) {
    ctx.addIssue({
      code: 'custom',
      path: ['S3_PART_BYTES'],
      message: `${e.S3_PART_BYTES} bytes per part cannot hold MAX_UPLOAD_BYTES (${e.MAX_UPLOAD_BYTES}) in S3's ${S3_MAX_PARTS} parts; raise it to at least ${Math.ceil(e.MAX_UPLOAD_BYTES / S3_MAX_PARTS)}`,
    });
  }
});

export type Env = z.input<typeof schema>;

/** Uploads kept in a directory on local disk (`STORAGE=disk`, the default). */
export interface DiskStorageConfig {
  readonly kind: 'disk';
  readonly dir: string;
}

/**
 * Uploads kept in an S3 bucket (`STORAGE=s3`). Credentials are not here: the AWS SDK finds
 * them itself (environment, shared files, the ECS task role).
 */
export interface S3StorageConfig {
  readonly kind: 's3';
  readonly bucket: string;
  /** Prepended to every key: "" or a path ending in "/". */
  readonly prefix: string;
  /** Unset: the SDK's own lookup (AWS_REGION, the shared config file). */
  readonly region: string | undefined;
  /** An S3-compatible server instead of AWS (MinIO, s3rver …). */
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  /** Bytes per multipart part; the API holds about (queueSize + 1) of them per upload. */
  readonly partBytes: number;
  /** Parts of one upload in flight at once. */
  readonly queueSize: number;
}

/** Sluice's settings, read once from the environment. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: { readonly host: string; readonly port: number; readonly logRequests: boolean };
  readonly databaseUrl: string;
  readonly databasePoolMax: number;
  /** The restricted role the API and worker act as (`SET ROLE` on connect); migrations do not. */
  readonly databaseRole: string;
  /** Requests per API key per window; beyond it, 429. */
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly logLevel: string;
  readonly storage: DiskStorageConfig | S3StorageConfig;
  readonly upload: { readonly maxBytes: number };
  readonly batch: { readonly rows: number; readonly bytes: number };
  /** Bounds on what one file may hold, so a hostile file costs bounded memory and disk. */
  readonly files: {
    readonly maxDecompressedBytes: number;
    readonly maxLineChars: number;
    readonly maxFieldChars: number;
    readonly maxColumns: number;
    readonly maxJsonDepth: number;
  };
  readonly worker: {
    readonly concurrency: number;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly shutdownGraceMs: number;
    /** How long a worker's hold on a job lasts unless renewed (renewed every half of it). */
    readonly lockMs: number;
    readonly stalledIntervalMs: number;
    /** Stalls (a worker died or froze holding the job) tolerated before the job fails. */
    readonly maxStalled: number;
    readonly reconcileIntervalMs: number;
    readonly reconcileIdleMs: number;
  };
  /** Where the worker publishes the ingest queue's depth to CloudWatch; null when off. */
  readonly queueMetrics: {
    readonly namespace: string;
    readonly intervalMs: number;
    /** A CloudWatch-compatible endpoint instead of AWS's own. */
    readonly endpoint?: string;
  } | null;
  /** The key of the admin endpoints and `/admin/queues`; without one they answer 404. */
  readonly admin: { readonly key: string | null };
  /** Where the worker serves its Prometheus metrics (the API serves its own at `/metrics`). */
  readonly metrics: { readonly port: number };
  /** Server-Sent Events: how often an open stream gets a heartbeat and rechecks its job. */
  readonly events: { readonly heartbeatMs: number };
  /** `POST /ingest`: the body cap, and how pushes coalesce into batches (one blob + one job each). */
  readonly push: { readonly maxBytes: number; readonly lingerMs: number; readonly quietMs: number; readonly batchRecords: number; readonly flushes: number; readonly jobDelayMs: number };
  /** Pull runs: per-request timeout, attempts per page (429, 5xx, timeouts), first backoff, default page cap. */
  readonly pull: { readonly timeoutMs: number; readonly attempts: number; readonly backoffMs: number; readonly maxPages: number };
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}

function storageConfig(e: z.output<typeof schema>): Config['storage'] {
  if (e.STORAGE === 'disk' || e.S3_BUCKET === undefined) return { kind: 'disk', dir: e.STORAGE_DIR };
  const prefix = e.S3_PREFIX.replace(/^\/+|\/+$/g, '');
  return {
    kind: 's3',
    bucket: e.S3_BUCKET,
    prefix: prefix === '' ? '' : `${prefix}/`,
    region: e.S3_REGION,
    endpoint: e.S3_ENDPOINT,
    forcePathStyle: e.S3_FORCE_PATH_STYLE,
    partBytes: e.S3_PART_BYTES,
    queueSize: e.S3_UPLOAD_QUEUE,
  };
}

/**
 * Parses the environment into a frozen {@link Config}; throws one error that names every
 * bad variable. Call it once, in `main`; nothing else reads `process.env`.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable (PORT=) means "not set", not zero.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = settings.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return deepFreeze({
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, logRequests: e.LOG_HTTP },
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseRole: e.DATABASE_ROLE,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    logLevel: e.LOG_LEVEL,
    storage: storageConfig(e),
    upload: { maxBytes: e.MAX_UPLOAD_BYTES },
    batch: { rows: e.BATCH_ROWS, bytes: e.BATCH_BYTES },
    files: {
      maxDecompressedBytes: e.MAX_DECOMPRESSED_BYTES,
      maxLineChars: e.MAX_LINE_CHARS,
      maxFieldChars: e.MAX_FIELD_CHARS,
      maxColumns: e.MAX_COLUMNS,
      maxJsonDepth: e.MAX_JSON_DEPTH,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      lockMs: e.WORKER_LOCK_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      maxStalled: e.WORKER_MAX_STALLED,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      reconcileIdleMs: e.RECONCILE_IDLE_MS,
    },
    queueMetrics:
      e.QUEUE_METRICS_NAMESPACE === undefined
        ? null
        : {
            namespace: e.QUEUE_METRICS_NAMESPACE,
            intervalMs: e.QUEUE_METRICS_INTERVAL_MS,
            ...(e.QUEUE_METRICS_ENDPOINT === undefined ? {} : { endpoint: e.QUEUE_METRICS_ENDPOINT }),
          },
    admin: { key: e.ADMIN_KEY ?? null },
    metrics: { port: e.METRICS_PORT },
    events: { heartbeatMs: e.EVENTS_HEARTBEAT_MS },
    push: { maxBytes: e.PUSH_MAX_BYTES, lingerMs: e.PUSH_LINGER_MS, quietMs: e.PUSH_QUIET_MS, batchRecords: e.PUSH_BATCH_RECORDS, flushes: e.PUSH_FLUSHES, jobDelayMs: e.PUSH_JOB_DELAY_MS },
    pull: { timeoutMs: e.PULL_TIMEOUT_MS, attempts: e.PULL_ATTEMPTS, backoffMs: e.PULL_BACKOFF_MS, maxPages: e.PULL_MAX_PAGES },
  });
}
