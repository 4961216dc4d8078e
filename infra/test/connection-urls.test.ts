import { loadConfig } from '@sluice/config';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connectionUrlsEntryPoint } from '../src/connection-urls.js';

// The containers' entry point builds DATABASE_URL and REDIS_URL from what ECS injects, then
// runs the image's command. Run here with the same /bin/sh and a command that prints them.

const run = promisify(execFile);
const printEnv = [process.execPath, '-e', 'console.log(JSON.stringify(process.env))'];
const injected = {
  DATABASE_HOST: 'sluice.abc123.eu-west-1.rds.amazonaws.com',
  DATABASE_PORT: '5432',
  DATABASE_NAME: 'sluice',
  DATABASE_USER: 'sluice_app',
  DATABASE_PASSWORD: 'Xy9-_.zz8Q',
  REDIS_HOST: 'master.sluice.abc123.euw1.cache.amazonaws.com',
  REDIS_PORT: '6379',
  REDIS_AUTH_TOKEN: 'tok3nTOKEN',
};

async function start(entryPoint: string[], env: Record<string, string>): Promise<Record<string, string>> {
  const [shell, ...args] = entryPoint;
  const { stdout } = await run(shell!, [...args, ...printEnv], { env: { PATH: process.env.PATH ?? '', ...env } });
  return JSON.parse(stdout) as Record<string, string>;
}

test('the service entry point gives the command a DATABASE_URL (TLS) and a rediss:// REDIS_URL Sluice accepts, without the raw secrets', async () => {
  const env = await start(connectionUrlsEntryPoint({ redis: true }), injected);
  expect(env.DATABASE_URL).toBe('postgres://sluice_app:Xy9-_.zz8Q@sluice.abc123.eu-west-1.rds.amazonaws.com:5432/sluice?sslmode=no-verify');
  expect(env.REDIS_URL).toBe('rediss://:tok3nTOKEN@master.sluice.abc123.euw1.cache.amazonaws.com:6379');
  expect([env.DATABASE_PASSWORD, env.REDIS_AUTH_TOKEN]).toStrictEqual([undefined, undefined]);
  const config = loadConfig(env);
  expect([config.databaseUrl, config.redisUrl]).toStrictEqual([env.DATABASE_URL, env.REDIS_URL]);
});

test('the migration entry point needs no Redis', async () => {
  const { REDIS_HOST: _h, REDIS_PORT: _p, REDIS_AUTH_TOKEN: _t, ...databaseOnly } = injected;
  const env = await start(connectionUrlsEntryPoint({ redis: false }), databaseOnly);
  expect(new URL(env.DATABASE_URL!).username).toBe('sluice_app');
  expect(env.REDIS_URL).toBeUndefined();
});

test('a part ECS did not inject stops the container with the name of what is missing', async () => {
  const { DATABASE_PASSWORD: _missing, ...incomplete } = injected;
  await expect(start(connectionUrlsEntryPoint({ redis: true }), incomplete)).rejects.toMatchObject({
    stderr: expect.stringContaining('DATABASE_PASSWORD'),
  });
});
