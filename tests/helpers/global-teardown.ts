import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.SLUICE_TEST_TEMPLATE;
  if (template !== undefined && process.env.TEST_DATABASE_URL !== undefined) {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).finally(() => admin.end());
  }
  await Promise.all((globalThis.__SLUICE_CONTAINERS__ ?? []).map((c) => c.stop()));
}
