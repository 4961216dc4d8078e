import { createDatabase, migrateToLatest } from '@sluice/db';
import { existsSync } from 'node:fs';
import pg from 'pg';


declare global {
  var __SLUICE_CONTAINERS__: Array<{ stop(): Promise<unknown> }> | undefined;
}

function dockerAvailable(): boolean {
  return process.env.DOCKER_HOST !== undefined || existsSync('/var/run/docker.sock');
}

/**
 * Where the tests find PostgreSQL and Redis: TEST_DATABASE_URL / TEST_REDIS_URL when set;
 * else containers when a Docker engine answers (testcontainers); else the local services.
 * Then it migrates a template database that each test file clones.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL === undefined && process.env.TEST_REDIS_URL === undefined && dockerAvailable()) {
    try {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const { RedisContainer } = await import('@testcontainers/redis');
      const [postgres, redis] = await Promise.all([
        new PostgreSqlContainer('postgres:15-alpine').withUsername('postgres').withPassword('postgres').start(),
        new RedisContainer('redis:7-alpine').withCommand(['redis-server', '--maxmemory-policy', 'noeviction']).start(),
      ]);
      globalThis.__SLUICE_CONTAINERS__ = [postgres, redis];
      process.env.TEST_DATABASE_URL = postgres.getConnectionUri();
      process.env.TEST_REDIS_URL = redis.getConnectionUrl();
    } catch (error) {
      console.warn(`testcontainers unavailable (${(error as Error).message.split('\n')[0]}); using local services`);
    }
  }
  process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';

  // One template per run, so that runs side by side never drop each other's.
  const template = `sluice_test_template_${process.pid}`;
  process.env.SLUICE_TEST_TEMPLATE = template;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(process.env.TEST_DATABASE_URL);
  url.pathname = `/${template}`;
  const database = createDatabase({ url: url.toString(), poolMax: 1 });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
}
