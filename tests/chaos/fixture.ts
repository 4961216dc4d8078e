// The file every chaos case ingests, and what ingesting it (or its first N rows) must leave
// behind. The CSV is generated from a seeded PRNG, so it is the same on every run: fresh keys,
// repeated keys (in the same batch, where they fold, and across batches, where they update or
// stay unchanged), keys repeated in upper case (the same identity once normalized), quoted
// names with commas and quotes, and invalid rows of several kinds.
import type { Cluster, JobBody } from './cluster.js';

export const DATASET_FIELDS = [
  { name: 'email', type: 'email', required: true },
  { name: 'name', type: 'string', maxLength: 200 },
  { name: 'amount', type: 'number', min: 0 },
  { name: 'country', type: 'enum', values: ['DE', 'FR', 'US'] },
  { name: 'active', type: 'boolean' },
  { name: 'signup_date', type: 'date' },
];

export function datasetSpec(name: string) {
  return { name, key: ['email'], fields: DATASET_FIELDS };
}

interface Version {
  name: string;
  amount: number;
  country: string;
  active: boolean;
  date: string;
}

type SourceRow = { row: number; valid: true; key: string; version: Version; content: string } | { row: number; valid: false };

export type Counts = JobBody['counts'];

export interface Expected {
  /** Rows 1..through of the file. */
  through: number;
  /** email (normalized) → the version the record must hold (the last row of that key). */
  records: Map<string, Version>;
  /** Row numbers the job must list as rejected. */
  invalidRows: number[];
  /** The job's counters, simulated batch by batch. */
  counts: Counts;
}

export interface Fixture {
  csv: string;
  rows: number;
  batchRows: number;
  /** 1-based line of each row in the file (the header is line 1). */
  lineOf(row: number): number;
  /** What the first `through` rows must leave (a whole-file run: `through = rows`). */
  expectThrough(through: number): Expected;
  /** The first `through` rows as a CSV (header included). */
  prefixCsv(through: number): string;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const csvCell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** Generates the file; `rows` data rows, committed in batches of `batchRows` by the worker. */
export function makeFixture(rows: number, batchRows: number, seed = 20240607): Fixture {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const header = 'email,name,amount,country,active,signup_date';
  const lines: string[] = [header];
  const source: SourceRow[] = [];
  const keys: string[] = [];
  const latest = new Map<string, Version>();
  let nextKey = 0;

  const freshVersion = (row: number): Version => {
    const name = random() < 0.05 ? `Doe, "J${row}" Jr` : `Name ${row}`;
    return {
      name,
      amount: Math.floor(random() * 100_000) / 4,
      country: pick(['DE', 'FR', 'US']),
      active: random() < 0.5,
      date: `20${10 + Math.floor(random() * 15)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 10)}`,
    };
  };
  const line = (email: string, v: Version) =>
    [email, csvCell(v.name), String(v.amount), v.country, v.active ? 'true' : 'false', v.date].join(',');

  for (let row = 1; row <= rows; row++) {
    const r = random();
    if (r < 0.03) {
      // Invalid, of several kinds.
      const kind = row % 5;
      const v = freshVersion(row);
      if (kind === 0) lines.push(line(`not-an-email-${row}`, v));
      else if (kind === 1) lines.push(line(`bad-amount-${row}@example.com`, { ...v, amount: -1 - (row % 7) }));
      else if (kind === 2) lines.push(line(`bad-country-${row}@example.com`, { ...v, country: 'XX' }));
      else if (kind === 3)
        lines.push(`,${csvCell(v.name)},1,DE,true,2020-01-01`); // missing required email
      else lines.push(`${line(`extra-cell-${row}@example.com`, v)},surplus`); // wrong column count
      source.push({ row, valid: false });
      continue;
    }
    let key: string;
    let version: Version;
    let email: string;
    if (r < 0.15 && keys.length > 0) {
      // A key seen before: from nearby (likely the same batch: folds) or from anywhere.
      key = r < 0.09 ? keys[Math.max(0, keys.length - 1 - Math.floor(random() * 50))]! : pick(keys);
      const previous = latest.get(key)!;
      version = random() < 0.5 ? previous : freshVersion(row);
      email = random() < 0.3 ? key.toUpperCase() : key;
    } else {
      key = `u${nextKey++}@example.com`;
      keys.push(key);
      version = freshVersion(row);
      email = key;
    }
    latest.set(key, version);
    lines.push(line(email, version));
    source.push({ row, valid: true, key, version, content: JSON.stringify(version) });
  }
  const csv = `${lines.join('\n')}\n`;

  const expectThrough = (through: number): Expected => {
    const stored = new Map<string, string>();
    const records = new Map<string, Version>();
    const invalidRows: number[] = [];
    const counts: Counts = { rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 };
    for (let start = 0; start < through; start += batchRows) {
      const batch = source.slice(start, Math.min(start + batchRows, through));
      const folded = new Map<string, { version: Version; content: string }>();
      let valid = 0;
      for (const s of batch) {
        counts.rows++;
        if (!s.valid) {
          counts.invalid++;
          invalidRows.push(s.row);
          continue;
        }
        valid++;
        folded.set(s.key, { version: s.version, content: s.content });
      }
      let inserted = 0;
      let updated = 0;
      for (const [key, { version, content }] of folded) {
        const before = stored.get(key);
        if (before === undefined) inserted++;
        else if (before !== content) updated++;
        stored.set(key, content);
        records.set(key, version);
      }
      counts.valid += valid;
      counts.inserted += inserted;
      counts.updated += updated;
      counts.unchanged += valid - inserted - updated;
    }
    return { through, records, invalidRows, counts };
  };

  return {
    csv,
    rows,
    batchRows,
    lineOf: (row) => row + 1,
    expectThrough,
    prefixCsv: (through) => `${lines.slice(0, through + 1).join('\n')}\n`,
  };
}

/** What PostgreSQL holds for a dataset and a job, reduced to what the invariant compares. */
export interface Observed {
  records: number;
  distinctKeys: number;
  missingKeys: string[];
  unexpectedKeys: string[];
  wrongVersions: string[];
  recordsFromOtherJobs: number;
  rejectedRows: number;
  missingRejectedRows: number[];
  unexpectedRejectedRows: number[];
  checkpoint: number;
  counters: Counts;
}

/**
 * The invariant, read from PostgreSQL: every source row (1..expected.through) is a record or a
 * rejected row of the job, no record twice, the stored version of each key is its last row's,
 * and the job's counters are what an uninterrupted run gives. Returns what was observed in a
 * shape that `toEqual(expectedObservation(expected))` compares with a readable diff.
 */
export async function observe(cluster: Cluster, datasetId: string, jobId: string, expected: Expected): Promise<Observed> {
  const records = await cluster.query<{
    email: string;
    name: string;
    amount: number;
    country: string;
    active: boolean;
    date: string;
    first_job_id: string;
    last_job_id: string;
  }>(
    `SELECT data->>'email' AS email, data->>'name' AS name, (data->>'amount')::float8 AS amount, data->>'country' AS country,
            (data->>'active')::boolean AS active, data->>'signup_date' AS date, first_job_id, last_job_id
     FROM records WHERE dataset_id = $1`,
    [datasetId],
  );
  const [dup] = await cluster.query<{ n: number; d: number }>(
    'SELECT count(*)::int AS n, count(DISTINCT key_hash)::int AS d FROM records WHERE dataset_id = $1',
    [datasetId],
  );
  const seen = new Map<string, (typeof records)[number]>();
  for (const r of records) seen.set(r.email, r);
  const missingKeys = [...expected.records.keys()].filter((k) => !seen.has(k));
  const unexpectedKeys = [...seen.keys()].filter((k) => !expected.records.has(k));
  const wrongVersions: string[] = [];
  for (const [key, v] of expected.records) {
    const r = seen.get(key);
    if (r === undefined) continue;
    if (r.name !== v.name || r.amount !== v.amount || r.country !== v.country || r.active !== v.active || r.date !== v.date) {
      wrongVersions.push(
        `${key}: stored ${JSON.stringify([r.name, r.amount, r.country, r.active, r.date])}, expected ${JSON.stringify([v.name, v.amount, v.country, v.active, v.date])}`,
      );
    }
  }
  const rejected = await cluster.query<{ row_number: number }>(
    'SELECT row_number::int FROM validation_errors WHERE job_id = $1 ORDER BY row_number',
    [jobId],
  );
  const rejectedSet = new Set(rejected.map((r) => r.row_number));
  const invalidSet = new Set(expected.invalidRows);
  const [job] = await cluster.query<{ checkpoint: number } & Counts>(
    `SELECT checkpoint::int, rows_seen::int AS rows, rows_valid::int AS valid, rows_invalid::int AS invalid,
            rows_inserted::int AS inserted, rows_updated::int AS updated, rows_unchanged::int AS unchanged
     FROM ingestion_jobs WHERE id = $1`,
    [jobId],
  );
  if (job === undefined) throw new Error(`no job row ${jobId}`);
  const { checkpoint, ...counters } = job;
  return {
    records: dup?.n ?? -1,
    distinctKeys: dup?.d ?? -1,
    missingKeys: missingKeys.slice(0, 10),
    unexpectedKeys: unexpectedKeys.slice(0, 10),
    wrongVersions: wrongVersions.slice(0, 10),
    recordsFromOtherJobs: records.filter((r) => r.first_job_id !== jobId || r.last_job_id !== jobId).length,
    rejectedRows: rejected.length,
    missingRejectedRows: expected.invalidRows.filter((n) => !rejectedSet.has(n)).slice(0, 10),
    unexpectedRejectedRows: [...rejectedSet].filter((n) => !invalidSet.has(n)).slice(0, 10),
    checkpoint,
    counters,
  };
}

/** The observation the invariant demands, given the expectation (and the reference run's counts). */
export function expectedObservation(expected: Expected, counts: Counts = expected.counts): Observed {
  return {
    records: expected.records.size,
    distinctKeys: expected.records.size,
    missingKeys: [],
    unexpectedKeys: [],
    wrongVersions: [],
    recordsFromOtherJobs: 0,
    rejectedRows: expected.invalidRows.length,
    missingRejectedRows: [],
    unexpectedRejectedRows: [],
    checkpoint: expected.through,
    counters: counts,
  };
}
