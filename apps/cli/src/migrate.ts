import { loadConfig } from '@sluice/config';
import { createDatabase, ensureDatabase, migrateToLatest } from '@sluice/db';
import { createLogger } from '@sluice/logging';

const config = loadConfig(process.env);
const logger = createLogger({ level: config.logLevel, service: 'sluice-migrate' });

await ensureDatabase(config.databaseUrl);
const database = createDatabase({ url: config.databaseUrl, poolMax: 2, applicationName: 'sluice-migrate' });
try {
  const { results = [] } = await migrateToLatest(database.db);
  for (const r of results) logger.info('migration applied', { migration: r.migrationName, status: r.status });
  logger.info(results.length === 0 ? 'schema already current' : 'schema migrated', { applied: results.length });
} catch (error) {
  logger.error('migration failed', { error: (error as Error).message });
  process.exitCode = 1;
} finally {
  await database.close();
}
