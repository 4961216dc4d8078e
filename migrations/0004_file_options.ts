import { sql, type Kysely } from 'kysely';

/**
 * How files are read: a dataset's reading defaults (delimiter, decimal mark, header,
 * unknown columns, error budget, atomic) and, per job, what the worker decided when it
 * opened the file (encoding, delimiter, header, column mapping), so a user can see why.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE datasets ADD COLUMN options jsonb NOT NULL DEFAULT '{}';
    ALTER TABLE ingestion_jobs ADD COLUMN reading jsonb;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE ingestion_jobs DROP COLUMN reading;
    ALTER TABLE datasets DROP COLUMN options;
  `.execute(db);
}
