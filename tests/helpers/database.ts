import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh, migrated database of its own for one test file, cloned from the template. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  const template = process.env.SLUICE_TEST_TEMPLATE;
  if (base === undefined || template === undefined) throw new Error('run the tests through jest: its globalSetup prepares the databases');
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A queue prefix of its own, so that test files never share BullMQ keys. */
export function testQueuePrefix(): string {
  return `sluice-test-${randomBytes(6).toString('hex')}`;
}
