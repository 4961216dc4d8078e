import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';

const INT8 = 20;

/** A Kysely instance and the pg pool under it (the batch writer needs raw clients for COPY). */
export interface Database {
  db: Kysely<DB>;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL. bigint columns come back as numbers: counters, row numbers and
 * record ids stay far below 2^53.
 */
export function createDatabase(options: {
  url: string;
  poolMax?: number;
  applicationName?: string;
  /** Ends a session that sits idle inside a transaction this long (its locks go with it). */
  idleInTransactionMs?: number;
  /** The role every session acts as from its start (`SET ROLE`), so row-level security binds it. */
  role?: string;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    application_name: options.applicationName ?? 'sluice',
    ...(options.idleInTransactionMs !== undefined ? { idle_in_transaction_session_timeout: options.idleInTransactionMs } : {}),
    ...(options.role !== undefined ? { options: `-c role=${options.role}` } : {}),
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection emits here; without a listener the process dies.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool, close: () => db.destroy() };
}
