import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DiskStorage } from './disk-storage.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sluice-disk-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('DiskStorage.check', () => {
  test('resolves for a root that is there, and a write into it then succeeds', async () => {
    const storage = new DiskStorage(dir);
    await expect(storage.check()).resolves.toBeUndefined();
    await expect(storage.write('t1/a', Readable.from([Buffer.from('x')]))).resolves.toMatchObject({ sizeBytes: 1 });
  });

  test('creates a root that is not there yet, as the first write would', async () => {
    const root = path.join(dir, 'not', 'yet');
    await expect(new DiskStorage(root).check()).resolves.toBeUndefined();
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  test('rejects a root that cannot be a directory: a regular file, or a path under one', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(new DiskStorage(file).check()).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(new DiskStorage(path.join(file, 'uploads')).check()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
