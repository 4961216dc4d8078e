import { loadConfig } from '@sluice/config';
import { z } from 'zod';

const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.union([z.boolean(), z.enum(['true', 'false'])], { error: 'true or false' }).transform((v) => v === true || v === 'true');

/** The worker's default shutdown grace, as the app itself reads it (SHUTDOWN_GRACE_MS). */
export const DEFAULT_SHUTDOWN_GRACE_MS = loadConfig({}).worker.shutdownGraceMs;

/** Fargate stops a container with SIGKILL this long after SIGTERM, at most. */
export const FARGATE_MAX_STOP_TIMEOUT_S = 120;

/** The seconds ECS waits after SIGTERM beyond the app's own grace: the exit, the log flush. */
export const STOP_TIMEOUT_MARGIN_S = 5;

const tag = z.string().regex(/^\w[\w.-]{0,127}$/, 'an image tag: letters, digits, _ . -');

const schema = z
  .object({
    imageTag: tag,
    /** The image the migration task runs; set ahead of `imageTag` to migrate before a rollout. */
    migrationImageTag: tag.optional(),
    /** No API or worker tasks (the first deploy, before the first migration). */
    paused: flag.default(false),
    apiRepository: z.string().min(2).default('sluice-api'),
    workerRepository: z.string().min(2).default('sluice-worker'),
    multiAz: flag.default(false),
    natGateways: whole(1, 3).default(1),
    certificateArn: z.string().startsWith('arn:').optional(),
    databaseInstanceClass: z.string().min(2).default('t4g.small'),
    databaseStorageGiB: whole(20, 65_536).default(20),
    databaseBackupDays: whole(1, 35).default(7),
    redisNodeType: z.string().startsWith('cache.').default('cache.t4g.small'),
    apiCount: whole(1, 100).default(2),
    apiCpu: whole(256, 16_384).default(512),
    apiMemoryMiB: whole(512, 122_880).default(1024),
    workerMin: whole(1, 100).default(1),
    workerMax: whole(1, 500).default(10),
    workerCpu: whole(256, 16_384).default(1024),
    workerMemoryMiB: whole(512, 122_880).default(2048),
    workerConcurrency: whole(1, 64).default(2),
    shutdownGraceMs: whole(0, (FARGATE_MAX_STOP_TIMEOUT_S - STOP_TIMEOUT_MARGIN_S) * 1000).default(DEFAULT_SHUTDOWN_GRACE_MS),
    queueMetricsIntervalMs: whole(10_000, 300_000).default(60_000),
    uploadsPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'a folder name, e.g. uploads')
      .default('uploads'),
    uploadRetentionDays: whole(1, 3650).default(7),
    logRetentionDays: whole(1, 3653).default(30),
    retainData: flag.default(true),
  })
  .refine((s) => s.workerMax >= s.workerMin, { path: ['workerMax'], message: 'must be at least workerMin' });

/** The deployment's knobs, from CDK context (`cdk deploy -c imageTag=v1.4.0 -c multiAz=true`). */
export type Settings = z.output<typeof schema>;

/** The names of the knobs `readSettings` takes; anything else in the context is CDK's own. */
export const SETTING_NAMES = Object.keys(schema.shape) as (keyof Settings)[];

/**
 * Reads the deployment's settings from CDK context values (strings from `-c`, or JSON from
 * cdk.json); throws one error naming every bad value.
 */
export function readSettings(context: Record<string, unknown>): Settings {
  const given = Object.fromEntries(
    SETTING_NAMES.filter((name) => context[name] !== undefined && context[name] !== '').map((name) => [name, context[name]]),
  );
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid deployment settings (CDK context): ${problems}`);
  }
  return parsed.data;
}

/** The worker container's stop timeout: its shutdown grace plus a margin, in whole seconds. */
export function stopTimeoutSeconds(shutdownGraceMs: number): number {
  return Math.ceil(shutdownGraceMs / 1000) + STOP_TIMEOUT_MARGIN_S;
}
