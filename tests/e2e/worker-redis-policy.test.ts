import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../helpers/net.js';
import { createTestDatabase } from '../helpers/database.js';

// BullMQ keeps jobs in Redis keys: a Redis that evicts keys under memory pressure loses jobs.
// The worker refuses to start on one, and says why.

const root = path.resolve(import.meta.dirname, '../..');

function exitOf(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

test('the worker will not start on a Redis whose maxmemory-policy evicts keys', async () => {
  const port = await freePort();
  const redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], {
    stdio: 'ignore',
  });
  const database = await createTestDatabase();
  try {
    // Commands wait in ioredis's offline queue until the fresh server accepts the connection.
    const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 100 ? null : 50) });
    await redis.ping();
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    redis.disconnect();

    let output = '';
    const worker = spawn(process.execPath, [path.join(root, 'apps/worker/dist/main.js')], {
      env: { ...process.env, DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    worker.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    expect(await exitOf(worker)).toBe(1);
    expect(output).toContain('worker failed to start');
    expect(output).toContain('maxmemory-policy is \\"allkeys-lru\\"; BullMQ needs \\"noeviction\\"');
  } finally {
    redisServer.kill('SIGKILL');
    await exitOf(redisServer);
    await database.drop();
  }
});
