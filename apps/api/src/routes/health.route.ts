import type { FastifyInstance } from 'fastify';
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
    summary: 'Readiness: 200 when PostgreSQL and Redis answer, else 503 naming which does not',
    response: { 200: z.object({ status: z.literal('ready'), checks: z.object({ postgres: probeResult, redis: probeResult }) }), 503: errorSchema },
  },
};

async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** `/health`: the process runs. `/ready`: PostgreSQL and Redis answer, so requests can succeed. */
export async function healthRoutes(app: FastifyInstance, deps: AppDeps) {
  app.get('/health', { config: { auth: 'none', rateLimit: false }, schema: schemas.health }, async () => ({ status: 'ok' }));
  app.get('/ready', { config: { auth: 'none', rateLimit: false }, schema: schemas.ready }, async (_request, reply) => {
    const [postgres, redis] = await Promise.all([
      check(() => sql`SELECT 1`.execute(deps.database.db), 2_000),
      check(() => deps.redis.ping(), 2_000),
    ]);
    const checks = { postgres, redis };
    if (postgres === 'ok' && redis === 'ok') return { status: 'ready', checks };
    return reply.status(503).send(errorBody('unavailable', 'not ready: a dependency does not answer', checks));
  });
}
