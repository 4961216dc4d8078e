// Tenants, keys and isolation, attacked from outside over HTTP and from inside at the
// database. Each case asserts the status, the error code and that nothing was stored.
import { buildApp } from '@sluice/api';
import { createTenant } from '@sluice/auth';
import { createDatabase, withTenant } from '@sluice/db';
import { createLogger } from '@sluice/logging';
import { enqueueIngest } from '@sluice/queue';
import { createDeps } from '@sluice/runtime';
import { sql } from 'kysely';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { anonymousFetch, startTestStack, waitForJob, type TestStack } from '../helpers/stack.js';
import { countRows, createDataset, expectError, ingest, listFiles, request, uploadParts } from './support.js';

const ADMIN_KEY = 'admin-key-for-the-security-suite-0123456789';
const ROOT = path.resolve(import.meta.dirname, '../..');

let stack: TestStack;
/** A second tenant, the attacker in the cross-tenant cases. */
let other: { id: string; key: string };
let jobA: { id: string };
let recordA: number;

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const wellFormedButUnknown = () => `sluice_${randomBytes(32).toString('base64url')}`;

const SPEC = {
  name: 'people',
  key: ['email'],
  fields: [
    { name: 'email', type: 'email', required: true },
    { name: 'age', type: 'integer', min: 0 },
  ],
};

beforeAll(async () => {
  stack = await startTestStack({ ADMIN_KEY });
  await createDataset(stack, SPEC);
  const { job } = await ingest(stack, 'people', 'people.csv', 'email,age\na@example.com,30\nb@example.com,-1\n');
  expect(job.status).toBe('completed');
  jobA = job;
  const { rows } = await sql<{ id: number }>`SELECT id FROM records ORDER BY id LIMIT 1`.execute(stack.db);
  recordA = rows[0]!.id;
  const created = await createTenant(stack.deps.database.db, 'mallory');
  other = { id: created.tenant.id, key: created.key };
}, 60_000);

afterAll(async () => {
  await stack.close();
});

describe('authentication', () => {
  const UNAUTHORIZED = { error: { code: 'unauthorized', message: expect.any(String) } };

  test.each([
    ['no header at all', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a malformed key', { authorization: 'Bearer not-a-key' }],
    ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['a key of the right shape that was never issued', { authorization: `Bearer ${wellFormedButUnknown()}` }],
    ['an unknown X-API-Key', { 'x-api-key': wellFormedButUnknown() }],
  ])('%s gets the one 401', async (_name, headers: Record<string, string>) => {
    const res = await anonymousFetch(`${stack.baseUrl}/datasets`, { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="sluice"');
    const body = await res.json();
    expect(body).toEqual(UNAUTHORIZED);
    expect((body as typeof UNAUTHORIZED).error.message).toBe(
      'a valid API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
    );
  });

  test('a revoked key gets the same 401 as an unknown one, at once', async () => {
    const issued = await request(stack, 'POST', '/admin/tenants/mallory/keys', {
      headers: { ...as(ADMIN_KEY), 'content-type': 'application/json' },
      body: '{"name":"ci"}',
    });
    expect(issued.status).toBe(201);
    const key = issued.body.key as string;
    expect((await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: as(key) })).status).toBe(200);

    const revoked = await request(stack, 'DELETE', `/admin/tenants/mallory/keys/${issued.body.apiKey.prefix as string}`, {
      headers: as(ADMIN_KEY),
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));

    const res = await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: as(key) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 401, body: UNAUTHORIZED });
  });

  test('X-API-Key and a lowercase "bearer" are accepted too', async () => {
    expect((await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: { 'x-api-key': stack.apiKey } })).status).toBe(200);
    expect((await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: { authorization: `bearer ${stack.apiKey}` } })).status).toBe(200);
  });

  test('/health and /ready need no key; an unknown route needs one before it is a 404', async () => {
    expect((await anonymousFetch(`${stack.baseUrl}/health`)).status).toBe(200);
    expect((await anonymousFetch(`${stack.baseUrl}/ready`)).status).toBe(200);
    expect((await anonymousFetch(`${stack.baseUrl}/no-such-route`)).status).toBe(401);
    expectError(await request(stack, 'GET', '/no-such-route'), 404, 'not_found');
  });

  test('an upload without a key stores nothing: no file, no job', async () => {
    const before = { jobs: await countRows(stack, 'ingestion_jobs'), files: await listFiles(stack.storageDir) };
    const form = new FormData();
    form.append('dataset', 'people');
    form.append('file', new Blob(['email\nz@example.com\n']), 'z.csv');
    const res = await anonymousFetch(`${stack.baseUrl}/upload`, { method: 'POST', body: form, headers: as(wellFormedButUnknown()) });
    expectError({ status: res.status, body: await res.json() }, 401, 'unauthorized');
    expect({ jobs: await countRows(stack, 'ingestion_jobs'), files: await listFiles(stack.storageDir) }).toEqual(before);
  });

  test("X-Tenant-ID must name the key's tenant: 403 otherwise, and nothing is stored", async () => {
    expect((await request(stack, 'GET', '/datasets', { headers: { 'x-tenant-id': stack.tenantId } })).status).toBe(200);
    expect((await request(stack, 'GET', '/datasets', { headers: { 'x-tenant-id': stack.tenantId.toUpperCase() } })).status).toBe(200);
    expectError(await request(stack, 'GET', '/datasets', { headers: { 'x-tenant-id': other.id } }), 403, 'forbidden');
    expectError(await request(stack, 'GET', '/datasets', { headers: { 'x-tenant-id': 'not-a-uuid' } }), 403, 'forbidden');

    const jobs = await countRows(stack, 'ingestion_jobs');
    const res = await uploadParts(
      stack,
      [
        { name: 'dataset', value: 'people' },
        { name: 'file', file: 'email\nq@example.com\n', fileName: 'q.csv' },
      ],
      { 'x-tenant-id': other.id },
    );
    expectError(res, 403, 'forbidden');
    expect(await countRows(stack, 'ingestion_jobs')).toBe(jobs);
  });
});

describe("another tenant's resources are not there (404), and stay as they were", () => {
  const asOther = () => as(other.key);

  test.each([
    ['GET', '/jobs/:id', () => `/jobs/${jobA.id}`],
    ['GET', '/jobs/:id/errors', () => `/jobs/${jobA.id}/errors`],
    ['GET', '/jobs/:id/errors?format=csv', () => `/jobs/${jobA.id}/errors?format=csv`],
    ['POST', '/jobs/:id/cancel', () => `/jobs/${jobA.id}/cancel`],
    ['POST', '/jobs/:id/retry', () => `/jobs/${jobA.id}/retry`],
    ['GET', '/records/:id', () => `/records/${recordA}`],
    ['GET', '/records?dataset=', () => '/records?dataset=people'],
    ['GET', '/datasets/:name', () => '/datasets/people'],
  ])('%s %s', async (method, _route, url) => {
    expectError(await request(stack, method, url(), { headers: asOther() }), 404, 'not_found');
  });

  test("lists show only the caller's own: no jobs, no datasets", async () => {
    expect((await request(stack, 'GET', '/jobs', { headers: asOther() })).body).toEqual({ items: [], nextCursor: null });
    expect((await request(stack, 'GET', '/jobs?dataset=people', { headers: asOther() })).body).toEqual({ items: [], nextCursor: null });
    expect((await request(stack, 'GET', '/datasets', { headers: asOther() })).body).toEqual({ items: [] });
  });

  test("an upload to the other tenant's dataset is a 404 that stores nothing", async () => {
    const before = { jobs: await countRows(stack, 'ingestion_jobs'), files: await listFiles(stack.storageDir) };
    const res = await uploadParts(
      stack,
      [
        { name: 'dataset', value: 'people' },
        { name: 'file', file: 'email\nm@example.com\n', fileName: 'm.csv' },
      ],
      asOther(),
    );
    expectError(res, 404, 'not_found');
    expect({ jobs: await countRows(stack, 'ingestion_jobs'), files: await listFiles(stack.storageDir) }).toEqual(before);
  });

  test('the same dataset name and the same Idempotency-Key in two tenants are two things', async () => {
    const created = await request(stack, 'POST', '/datasets', {
      headers: { ...asOther(), 'content-type': 'application/json' },
      body: JSON.stringify(SPEC),
    });
    expect(created.status).toBe(201);
    const send = (headers: Record<string, string>) =>
      uploadParts(
        stack,
        [
          { name: 'dataset', value: 'people' },
          { name: 'file', file: 'email,age\nmallory@example.com,40\n', fileName: 'm.csv' },
        ],
        { ...headers, 'idempotency-key': 'shared-key-1' },
      );
    const mine = await send({});
    const theirs = await send(asOther());
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect((await waitForJob(stack, mine.body.id)).status).toBe('completed');
    const deadline = Date.now() + 15_000;
    let theirJob = await request(stack, 'GET', `/jobs/${theirs.body.id as string}`, { headers: asOther() });
    while (theirJob.body.status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      theirJob = await request(stack, 'GET', `/jobs/${theirs.body.id as string}`, { headers: asOther() });
    }
    expect(theirJob.body.counts).toMatchObject({ inserted: 1 });
    expectError(await request(stack, 'GET', `/jobs/${theirs.body.id as string}`), 404, 'not_found');

    const mineListed = await request(stack, 'GET', '/records?dataset=people');
    const theirsListed = await request(stack, 'GET', '/records?dataset=people', { headers: asOther() });
    const emails = (res: { body: Record<string, any> }) => res.body.items.map((r: { data: { email: string } }) => r.data.email).sort();
    expect(emails(mineListed)).toEqual(['a@example.com', 'mallory@example.com']);
    expect(emails(theirsListed)).toEqual(['mallory@example.com']);
  });

  test("sources, pushes and stats: another tenant's are not there", async () => {
    const source = await request(stack, 'POST', '/sources', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'crm', dataset: 'people', url: 'http://127.0.0.1:9/people', pagination: { type: 'none' } }),
    });
    expect(source.status).toBe(201);
    const id = source.body.id as string;
    for (const [method, url] of [
      ['GET', `/sources/${id}`],
      ['PATCH', `/sources/${id}`],
      ['DELETE', `/sources/${id}`],
      ['POST', `/sources/${id}/run`],
      ['GET', `/sources/${id}/runs`],
    ] as const) {
      const init =
        method === 'PATCH'
          ? { headers: { ...asOther(), 'content-type': 'application/json' }, body: '{"url":"http://127.0.0.1:9/x"}' }
          : { headers: asOther() };
      expectError(await request(stack, method, url, init), 404, 'not_found');
    }
    expect((await request(stack, 'GET', '/sources', { headers: asOther() })).body.items).toEqual([]);
    const stored = await sql<{
      url: string;
      n: number;
    }>`SELECT url, (SELECT count(*)::int FROM ingestion_jobs WHERE source_id = ${id}) AS n FROM sources WHERE id = ${id}`.execute(stack.db);
    expect(stored.rows).toEqual([{ url: 'http://127.0.0.1:9/people', n: 0 }]);

    const jobs = await countRows(stack, 'ingestion_jobs');
    const pushed = await request(stack, 'POST', '/ingest?dataset=people', {
      headers: { ...asOther(), 'content-type': 'application/json' },
      body: '{"email":"x@example.com"}',
    });
    expect(pushed.status).toBe(202); // into their own "people" dataset, made above
    const theirs = await sql<{ tenant_id: string }>`SELECT tenant_id FROM ingestion_jobs WHERE id = ${pushed.body.id as string}`.execute(
      stack.db,
    );
    expect(theirs.rows).toEqual([{ tenant_id: other.id }]);
    expect(await countRows(stack, 'ingestion_jobs')).toBe(jobs + 1);

    const mine = await request(stack, 'GET', '/stats');
    const their = await request(stack, 'GET', '/stats', { headers: asOther() });
    expect(JSON.stringify(their.body)).not.toContain(id);
    expect(JSON.stringify(mine.body)).toContain('crm');
    expect(JSON.stringify(their.body)).not.toContain('crm');
  });

  test('cancel and retry by the other tenant left the job as it was', async () => {
    const { rows } = await sql<{
      status: string;
      attempts: number;
    }>`SELECT status, attempts FROM ingestion_jobs WHERE id = ${jobA.id}`.execute(stack.db);
    expect(rows).toEqual([{ status: 'completed', attempts: 1 }]);
  });
});

describe("the worker acts as the payload's tenant only", () => {
  test('a queue entry naming another tenant for a job makes the worker touch nothing', async () => {
    const res = await uploadParts(stack, [
      { name: 'dataset', value: 'people' },
      { name: 'file', file: 'email,age\nforged@example.com,1\n', fileName: 'f.csv' },
    ]);
    expect(res.status).toBe(202);
    const job = await waitForJob(stack, res.body.id);
    expect(job.status).toBe('completed');
    const records = await countRows(stack, 'records');
    await sql`UPDATE ingestion_jobs SET status = 'queued', checkpoint = 0, attempts = 0 WHERE id = ${job.id}`.execute(stack.db);
    await sql`DELETE FROM records WHERE last_job_id = ${job.id}`.execute(stack.db);

    // A forged payload: the job of tenant A, claimed for tenant B.
    await enqueueIngest(stack.deps.queue, { jobId: job.id, tenantId: other.id }, { attempts: 1, backoffMs: 0 });
    await stack.deps.queue.waitUntilReady();
    const deadline = Date.now() + 10_000;
    while ((await stack.deps.queue.getJobState(job.id)) !== 'unknown' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));

    const { rows } = await sql<{ status: string; attempts: number; tenant_id: string }>`
      SELECT status, attempts, tenant_id FROM ingestion_jobs WHERE id = ${job.id}`.execute(stack.db);
    expect(rows).toEqual([{ status: 'queued', attempts: 0, tenant_id: stack.tenantId }]);
    expect(await countRows(stack, 'records')).toBe(records - 1);
    const inOther = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM records WHERE tenant_id = ${other.id} AND last_job_id = ${job.id}`.execute(stack.db);
    expect(inOther.rows[0]!.n).toBe(0);
  });
});

describe('row-level security, at the database', () => {
  test("the app role acts as sluice_app and sees no row until a tenant is set, then only that tenant's", async () => {
    const db = stack.deps.database.db;
    const who = await sql<{ user: string }>`SELECT current_user AS user`.execute(db);
    expect(who.rows[0]!.user).toBe('sluice_app');

    const total = await sql<{ n: number }>`SELECT count(*)::int AS n FROM records`.execute(stack.db);
    expect(total.rows[0]!.n).toBeGreaterThan(0);
    for (const table of ['records', 'ingestion_jobs', 'datasets', 'validation_errors', 'api_keys', 'tenants', 'sources']) {
      const unscoped = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db);
      expect({ table, n: unscoped.rows[0]!.n }).toEqual({ table, n: 0 });
    }
    const mine = await withTenant(db, stack.tenantId, async (trx) => {
      const r = await sql<{ n: number; tenants: number }>`
        SELECT count(*)::int AS n, count(DISTINCT tenant_id)::int AS tenants FROM records`.execute(trx);
      return r.rows[0]!;
    });
    const expected = await sql<{ n: number }>`SELECT count(*)::int AS n FROM records WHERE tenant_id = ${stack.tenantId}`.execute(stack.db);
    expect(mine).toEqual({ n: expected.rows[0]!.n, tenants: 1 });
  });

  test("a transaction scoped to one tenant cannot write a row for another, nor change another's", async () => {
    const db = stack.deps.database.db;
    const dataset = await sql<{ id: string }>`SELECT id FROM datasets WHERE tenant_id = ${stack.tenantId}`.execute(stack.db);
    await expect(
      withTenant(db, other.id, (trx) =>
        sql`INSERT INTO records (tenant_id, dataset_id, key_hash, content_hash, data, first_job_id, last_job_id)
            VALUES (${stack.tenantId}, ${dataset.rows[0]!.id}, '\\x00', '\\x00', '{}', ${jobA.id}, ${jobA.id})`.execute(trx),
      ),
    ).rejects.toMatchObject({ code: '42501' }); // new row violates row-level security policy
    const updated = await withTenant(db, other.id, (trx) =>
      sql`UPDATE records SET data = '{}' WHERE tenant_id = ${stack.tenantId}`.execute(trx),
    );
    expect(Number(updated.numAffectedRows)).toBe(0);
    const deleted = await withTenant(db, other.id, (trx) => sql`DELETE FROM ingestion_jobs WHERE id = ${jobA.id}`.execute(trx));
    expect(Number(deleted.numAffectedRows)).toBe(0);
    expect(
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ingestion_jobs WHERE id = ${jobA.id}`.execute(stack.db)).rows[0]!.n,
    ).toBe(1);
  });

  test('the app role owns no table and cannot change the schema or lift the policies', async () => {
    const owned = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'sluice_app'`.execute(stack.db);
    expect(owned.rows[0]!.n).toBe(0);
    const db = stack.deps.database.db;
    await expect(sql`ALTER TABLE records DISABLE ROW LEVEL SECURITY`.execute(db)).rejects.toMatchObject({ code: '42501' });
    await expect(sql`CREATE TABLE sneaky (id int)`.execute(db)).rejects.toMatchObject({ code: '42501' });
    const forced = await sql<{ relname: string }>`
      SELECT relname FROM pg_class WHERE relname IN ('tenants', 'api_keys', 'datasets', 'ingestion_jobs', 'records', 'validation_errors')
        AND relrowsecurity AND relforcerowsecurity ORDER BY relname`.execute(stack.db);
    expect(forced.rows.map((r) => r.relname)).toEqual([
      'api_keys',
      'datasets',
      'ingestion_jobs',
      'records',
      'tenants',
      'validation_errors',
    ]);
  });

  test('keys are stored as SHA-256 and a prefix, never as themselves', async () => {
    const { rows } = await sql<{ prefix: string; key_hash: Buffer; row: string }>`
      SELECT prefix, key_hash, row_to_json(k)::text AS row FROM api_keys k WHERE tenant_id = ${stack.tenantId}`.execute(stack.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash.equals(createHash('sha256').update(stack.apiKey).digest())).toBe(true);
    expect(stack.apiKey.startsWith(rows[0]!.prefix)).toBe(true);
    expect(rows[0]!.row).not.toContain(stack.apiKey.slice(rows[0]!.prefix.length));
  });
});

describe('admin endpoints', () => {
  test('need the admin key: a tenant key or none is a 401', async () => {
    expectError(await request(stack, 'GET', '/admin/tenants'), 401, 'unauthorized');
    const res = await anonymousFetch(`${stack.baseUrl}/admin/tenants`);
    expectError({ status: res.status, body: await res.json() }, 401, 'unauthorized');
    expectError(await request(stack, 'GET', '/admin/tenants', { headers: as(`${ADMIN_KEY}x`) }), 401, 'unauthorized');
  });

  test('create a tenant: its key is shown once, works at once, and is never listed', async () => {
    const created = await request(stack, 'POST', '/admin/tenants', {
      headers: { ...as(ADMIN_KEY), 'content-type': 'application/json' },
      body: '{"name":"acme"}',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      tenant: { id: expect.any(String), name: 'acme', createdAt: expect.any(String) },
      key: expect.stringMatching(/^sluice_[A-Za-z0-9_-]{43}$/),
      apiKey: expect.objectContaining({ name: 'default', revokedAt: null }),
    });
    const key = created.body.key as string;
    expect((await anonymousFetch(`${stack.baseUrl}/jobs`, { headers: as(key) })).status).toBe(200);

    const keys = await request(stack, 'GET', '/admin/tenants/acme/keys', { headers: as(ADMIN_KEY) });
    expect(keys.status).toBe(200);
    expect(keys.text).not.toContain(key.slice(15));
    expect(keys.body.items).toEqual([expect.objectContaining({ prefix: key.slice(0, 15), name: 'default' })]);
    const tenants = await request(stack, 'GET', '/admin/tenants', { headers: as(ADMIN_KEY) });
    expect(tenants.body.items.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['acme', 'mallory', 'test']));

    expectError(
      await request(stack, 'POST', '/admin/tenants', {
        headers: { ...as(ADMIN_KEY), 'content-type': 'application/json' },
        body: '{"name":"acme"}',
      }),
      409,
      'conflict',
    );
    expectError(
      await request(stack, 'POST', '/admin/tenants', {
        headers: { ...as(ADMIN_KEY), 'content-type': 'application/json' },
        body: '{"name":"../etc"}',
      }),
      400,
      'validation_failed',
    );
    expectError(await request(stack, 'GET', '/admin/tenants/nobody/keys', { headers: as(ADMIN_KEY) }), 404, 'not_found');
  });

  test('without ADMIN_KEY configured, the admin endpoints do not exist', async () => {
    const plain = await startTestStack({}, { worker: false });
    try {
      expectError(await request(plain, 'GET', '/admin/tenants', { headers: as(ADMIN_KEY) }), 404, 'not_found');
    } finally {
      await plain.close();
    }
  });
});

describe('rate limits, per key', () => {
  test('past the limit a key gets 429 with Retry-After; another key is not slowed', async () => {
    const limited = await startTestStack({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' }, { worker: false });
    try {
      const second = await createTenant(limited.deps.database.db, 'second');
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(limited, 'GET', '/datasets')).status);
      expect(statuses).toEqual([200, 200, 200]);
      const refused = await request(limited, 'GET', '/datasets');
      const error = expectError(refused, 429, 'rate_limited');
      expect(error.details).toEqual({ limit: 3, retryAfterSeconds: expect.any(Number) });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await request(limited, 'GET', '/datasets', { headers: as(second.key) })).status).toBe(200);
      expect((await request(limited, 'GET', '/health')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('two API processes share a key’s count', async () => {
    const limited = await startTestStack({ RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000' }, { worker: false });
    const twinDeps = createDeps(limited.config, 'api', createLogger({ level: 'error', service: 'test', silent: true }));
    const twin = await buildApp({ ...twinDeps, retry: { attempts: 1, backoffMs: 0 } });
    try {
      await twin.listen({ host: '127.0.0.1', port: 0 });
      const twinUrl = `http://127.0.0.1:${(twin.server.address() as AddressInfo).port}`;
      const onTwin = () => anonymousFetch(`${twinUrl}/datasets`, { headers: as(limited.apiKey) }).then((res) => res.status);
      const statuses = [(await request(limited, 'GET', '/datasets')).status, (await request(limited, 'GET', '/datasets')).status];
      statuses.push(await onTwin(), await onTwin());
      expect(statuses).toEqual([200, 200, 200, 200]);
      // Each has counted two. A process hears the other's counts when it sends its own
      // (every 50 ms): one more request each, then both know of six.
      const sync = () => new Promise((resolve) => setTimeout(resolve, 200));
      await sync();
      await request(limited, 'GET', '/datasets');
      await onTwin();
      await sync();
      expectError(await request(limited, 'GET', '/datasets'), 429, 'rate_limited');
      expect(await onTwin()).toBe(429);
    } finally {
      await twin.close();
      await twinDeps.close();
      await limited.close();
    }
  });
});

describe('the admin command', () => {
  const admin = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'apps/cli/dist/admin.js'), ...args, '--json'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: stack.config.databaseUrl, LOG_LEVEL: 'error' },
    });
    return JSON.parse(stdout);
  };

  test('tenant create, key create, key list and key revoke do what the API sees', async () => {
    const created = await admin('tenant', 'create', 'globex');
    expect(created).toEqual({ tenant: { id: expect.any(String), name: 'globex' }, key: expect.any(String), apiKey: expect.any(Object) });
    const second = await admin('key', 'create', '--tenant', 'globex', '--key-name', 'etl');
    for (const key of [created.key, second.key])
      expect((await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: as(key) })).status).toBe(200);

    const listed = await admin('key', 'list', '--tenant', created.tenant.id);
    expect(listed.map((k: { name: string }) => k.name)).toEqual(['default', 'etl']);
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(15));

    const revoked = await admin('key', 'revoke', second.apiKey.id, '--tenant', 'globex');
    expect(revoked.revokedAt).toEqual(expect.any(String));
    expect((await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: as(second.key) })).status).toBe(401);
    expect((await anonymousFetch(`${stack.baseUrl}/datasets`, { headers: as(created.key) })).status).toBe(200);
  });
});

test('the database pool the tests read with is the owner, not the app role (sanity of this suite)', async () => {
  const owner = createDatabase({ url: stack.config.databaseUrl, poolMax: 1 });
  try {
    const who = await sql<{ user: string }>`SELECT current_user AS user`.execute(owner.db);
    expect(who.rows[0]!.user).not.toBe('sluice_app');
  } finally {
    await owner.close();
  }
});
