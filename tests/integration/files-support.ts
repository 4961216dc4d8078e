// Helpers of the files-*.test.ts suites (not a test file: jest only runs *.test.ts).
import { sql } from 'kysely';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestStack } from '../helpers/stack.js';
import { listFiles, recordRows } from './support.js';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/files');

/** A fixture file's bytes, exactly as committed. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIXTURES, name)));
}

/** The customers dataset the file fixtures are shaped for; `options` are its read defaults. */
export function customers(name: string, options: Record<string, unknown> = {}, extra: { aliases?: boolean } = {}) {
  return {
    name,
    key: ['customer_id'],
    fields: [
      { name: 'customer_id', type: 'integer', required: true, ...(extra.aliases ? { aliases: ['Kundennr'] } : {}) },
      { name: 'name', type: 'string' },
      { name: 'city', type: 'string' },
      { name: 'amount', type: 'number', ...(extra.aliases ? { aliases: ['Betrag'] } : {}) },
      { name: 'since', type: 'date', ...(extra.aliases ? { aliases: ['Seit'] } : {}) },
    ],
    options,
  };
}

/** A dataset's records' data straight from PostgreSQL, by customer_id. */
export async function customerRecords(stack: TestStack, dataset: string): Promise<Array<Record<string, unknown>>> {
  const rows = await recordRows(stack, dataset);
  return rows.map((r) => r.data).sort((a, b) => Number(a.customer_id) - Number(b.customer_id));
}

/**
 * How many jobs and records a dataset has, and how many files storage holds in all: after a
 * refused upload, no job, no record, and no more files than before.
 */
export async function traces(stack: TestStack, dataset: string): Promise<{ jobs: number; records: number; files: number }> {
  const { rows } = await sql<{ jobs: number; records: number }>`
    SELECT (SELECT count(*)::int FROM ingestion_jobs j JOIN datasets d ON d.id = j.dataset_id WHERE d.name = ${dataset}) AS jobs,
           (SELECT count(*)::int FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE d.name = ${dataset}) AS records`.execute(
    stack.db,
  );
  return { jobs: rows[0]!.jobs, records: rows[0]!.records, files: (await listFiles(stack.storageDir)).length };
}
