import { loadConfig } from '@sluice/config';
import { assertSchemaCurrent } from '@sluice/db';
import { createDeps } from '@sluice/runtime';
import { buildApp } from './app.js';

const config = loadConfig(process.env);
const deps = createDeps(config, 'api');
const { logger } = deps;

try {
  await assertSchemaCurrent(deps.database.db);
  const app = await buildApp({ ...deps, retry: { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs } });
  await app.listen({ host: config.http.host, port: config.http.port });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('api stopping', { signal });
    // Force the exit if uploads in flight outlast the grace period.
    setTimeout(() => {
      logger.error('api did not stop within the grace period; exiting');
      process.exit(1);
    }, config.worker.shutdownGraceMs).unref();
    await app.close();
    await deps.close();
    logger.info('api stopped');
  };
  process.once('SIGTERM', (s) => void stop(s));
  process.once('SIGINT', (s) => void stop(s));
} catch (error) {
  logger.error('api failed to start', { error: (error as Error).message });
  await deps.close();
  process.exitCode = 1;
}
