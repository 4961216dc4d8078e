import { sql, type Kysely } from 'kysely';
import type { DB, ValidationErrorRow } from './schema.js';

/** A job's rejected rows in file order; `cursor` is the last row number of the previous page. */
export async function listValidationErrors(
  db: Kysely<DB>,
  tenantId: string,
  filter: { jobId: string; limit: number; cursor?: number | undefined },
): Promise<ValidationErrorRow[]> {
  let query = db.selectFrom('validation_errors').selectAll().where('tenant_id', '=', tenantId).where('job_id', '=', filter.jobId);
  if (filter.cursor !== undefined) query = query.where('row_number', '>', filter.cursor);
  return query.orderBy('row_number').limit(filter.limit).execute();
}

/** Every property name the rejected rows of a JSON job have, in order of first appearance. */
export async function listRejectedColumns(db: Kysely<DB>, tenantId: string, jobId: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT k AS name FROM validation_errors, jsonb_object_keys("values") AS k
    WHERE tenant_id = ${tenantId} AND job_id = ${jobId}
    GROUP BY k ORDER BY min(row_number), k`.execute(db);
  return rows.map((r) => r.name);
}
