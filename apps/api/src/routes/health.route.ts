import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../app.js';
import { errorBody } from '../plugins/errors.plugin.js';

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
  app.get('/health', { config: { auth: 'none', rateLimit: false } }, async () => ({ status: 'ok' }));
  app.get('/ready', { config: { auth: 'none', rateLimit: false } }, async (_request, reply) => {
    const [postgres, redis] = await Promise.all([
      check(() => sql`SELECT 1`.execute(deps.database.db), 2_000),
      check(() => deps.redis.ping(), 2_000),
    ]);
    const checks = { postgres, redis };
    if (postgres === 'ok' && redis === 'ok') return { status: 'ready', checks };
    return reply.status(503).send(errorBody('unavailable', 'not ready: a dependency does not answer', checks));
  });
}
