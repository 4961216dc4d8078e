import { loadConfig } from '@sluice/config';
import { assertSchemaCurrent } from '@sluice/db';
import { createDeps } from '@sluice/runtime';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';

const config = loadConfig(process.env);
const deps = createDeps(config, 'api');
const { logger } = deps;

// Signals are handled from the first moment, so a stop during start-up is clean too.
let app: FastifyInstance | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info('api stopping: finishing requests in flight', { signal });
  // Force the exit if uploads in flight outlast the grace period.
  setTimeout(() => {
    logger.error('api did not stop within the grace period; exiting');
    process.exit(1);
  }, config.worker.shutdownGraceMs).unref();
  await app?.close();
  await deps.close();
  logger.info('api stopped');
};
process.once('SIGTERM', (s) => void stop(s));
process.once('SIGINT', (s) => void stop(s));
// Started by `npm start`: stop with the supervisor, however it ended.
if (process.channel !== undefined) {
  process.channel.unref();
  process.once('disconnect', () => void stop('supervisor gone'));
}

try {
  await assertSchemaCurrent(deps.database.db);
  app = await buildApp({ ...deps, retry: { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs } });
  if (!stopping) await app.listen({ host: config.http.host, port: config.http.port });
} catch (error) {
  logger.error('api failed to start', { error: (error as Error).message });
  await deps.close();
  process.exitCode = 1;
}
