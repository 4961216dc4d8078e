import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { errorBody } from '../plugins/errors.plugin.js';
import { errorSchema } from '../schemas.js';

const probeResult = z.enum(['ok', 'down']);
// The probes answer without an API key.
const open = { tags: ['operations'], security: [] };
const schemas = {
  health: { ...open, summary: 'Liveness: 200 while the process runs', response: { 200: z.object({ status: z.literal('ok') }) } },
  ready: {
    ...open,
    summary: 'Readiness: 200 when PostgreSQL, Redis and upload storage answer, else 503 naming which does not',
    description:
      'Checks PostgreSQL (`SELECT 1`), Redis (`PING`) and upload storage (the `STORAGE_DIR` directory is writable, ' +
      'or a HeadBucket of `S3_BUCKET`), each within 2 s. `skip=storage` leaves storage out (reported as `skipped`): ' +
      'for a load balancer that replaces tasks failing its check, which a storage outage shared by every task would not cure.',
    querystring: z.object({ skip: z.literal('storage').optional().describe('`storage`: do not check upload storage') }),
    response: {
      200: z.object({
        status: z.literal('ready'),
        checks: z.object({ postgres: probeResult, redis: probeResult, storage: z.enum(['ok', 'skipped']) }),
      }),
      400: errorSchema,
      503: errorSchema.describe('Not ready: `error.details` holds each check, `ok`, `down` or `skipped`'),
    },
  },
};

const TIMEOUT_MS = 2_000;

/** Runs `probe` for at most `timeoutMs`, then aborts its signal: `ok`, or `down` and why. */
async function check(
  probe: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs: number,
): Promise<{ result: 'ok' } | { result: 'down'; reason: string }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([probe(controller.signal), timeout]);
    return { result: 'ok' };
  } catch (error) {
    return { result: 'down', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/health`: the process runs. `/ready`: PostgreSQL, Redis and upload storage answer, so
 * requests, uploads and pushes can succeed (`?skip=storage`: the first two only).
 */
export async function healthRoutes(fastify: FastifyInstance, deps: AppDeps) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/health', { config: { auth: 'none', rateLimit: false }, schema: schemas.health }, async () => ({ status: 'ok' as const }));
  app.get('/ready', { config: { auth: 'none', rateLimit: false }, schema: schemas.ready }, async (request, reply) => {
    const skipStorage = request.query.skip === 'storage';
    const [postgres, redis, storage] = await Promise.all([
      check(() => sql`SELECT 1`.execute(deps.database.db), TIMEOUT_MS),
      check(() => deps.redis.ping(), TIMEOUT_MS),
      skipStorage ? undefined : check((signal) => deps.storage.check(signal), TIMEOUT_MS),
    ]);
    const storageResult = storage?.result ?? ('skipped' as const);
    if (postgres.result === 'ok' && redis.result === 'ok' && storageResult !== 'down') {
      return { status: 'ready' as const, checks: { postgres: postgres.result, redis: redis.result, storage: storageResult } };
    }
    const checks = { postgres: postgres.result, redis: redis.result, storage: storageResult };
    const reasons = Object.fromEntries(
      Object.entries({ postgres, redis, storage }).flatMap(([name, c]) => (c?.result === 'down' ? [[name, c.reason]] : [])),
    );
    request.log.warn({ reasons }, 'not ready');
    return reply.status(503).send(errorBody('unavailable', 'not ready: a dependency does not answer', checks));
  });
}
