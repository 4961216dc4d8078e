import { migrations } from '@sluice/migrations';
import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import pg from 'pg';

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Creates the database named in `url` when it does not exist yet (connecting to `postgres`). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (name === '' || name === 'postgres') return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<MigrationResultSet> {
  const result = await migrator(db as unknown as Kysely<unknown>).migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${(result.error as Error).message}`, { cause: result.error });
  }
  return result;
}

/**
 * Refuses a schema the code does not know: one with migrations still to apply, or with
 * migrations this code has never heard of (a newer release migrated it).
 */
export async function assertSchemaCurrent<T>(kysely: Kysely<T>): Promise<void> {
  const db = kysely as unknown as Kysely<unknown>;
  const known = Object.keys(migrations);
  const exists = await sql<{ ok: boolean }>`SELECT to_regclass('kysely_migration') IS NOT NULL AS ok`.execute(db);
  const applied =
    exists.rows[0]?.ok === true
      ? (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db)).rows.map((r) => r.name)
      : [];
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(`The database has migrations this version does not know (${unknown.join(', ')}): deploy the newer release.`);
  }
  const pending = known.filter((name) => !applied.includes(name));
  if (pending.length > 0) {
    throw new Error(`The database schema is not current (pending: ${pending.join(', ')}): run "npm run migrate" first.`);
  }
}
