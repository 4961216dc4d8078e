import type { Kysely } from 'kysely';
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
