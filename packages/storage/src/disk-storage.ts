import { AppError } from '@sluice/errors';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Storage, StoredObject } from './storage.js';
import { assertSafeKey } from './storage-key.js';

// What the disk says when it cannot take a file: full, read-only, not ours, not there.
const DISK_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'ENOENT', 'EIO']);

/**
 * A failed write as the caller should see it: the disk's fault is `unavailable` (503, as an
 * S3 failure is), named by its code only (the message holds the server's paths, which the
 * log has as the cause); anything else (the body broke, a limit tripped) as it was.
 */
function storageFailure(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || !DISK_FAULTS.has(code)) return error;
  return new AppError('unavailable', `storage could not write the file (${code})`, { cause: error });
}

/**
 * Files on local disk under `root`. A write goes to a temporary name and is fsynced and
 * renamed into place only when complete, so a reader never sees half a file and a failed
 * write leaves only its temporary file, which is removed.
 */
export class DiskStorage implements Storage {
  /** Directories this process has made or found: a write into one needs no mkdir. */
  private readonly dirs = new Set<string>();

  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async write(key: string, body: Readable): Promise<StoredObject> {
    const target = this.pathOf(key);
    const temp = `${target}.${randomUUID()}.partial`;
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        sizeBytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      // `flush`: fsynced before it is closed, on the one descriptor that wrote it.
      await pipeline(body, measure, createWriteStream(temp, { fd: await this.create(temp), flush: true }));
      await rename(temp, target);
    } catch (error) {
      // A disk that failed the write may fail the cleanup too; the write's error is the one to tell.
      await rm(temp, { force: true }).catch(() => undefined);
      throw storageFailure(error);
    }
    return { key, sizeBytes, sha256: hash.digest('hex') };
  }

  /** Creates `file` (which must not exist), and its directory when missing. */
  private async create(file: string): Promise<FileHandle> {
    const dir = path.dirname(file);
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      if (this.dirs.size >= 10_000) this.dirs.clear();
      this.dirs.add(dir);
    }
    try {
      return await open(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.dirs.delete(dir); // removed behind this process's back
      await mkdir(dir, { recursive: true });
      return open(file, 'wx');
    }
  }

  async read(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    const stream = createReadStream(file, { highWaterMark: 1 << 16 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new AppError('not_found', `stored file ${key} is missing`, { cause: error }) : error);
      });
    });
    return stream;
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  /**
   * `root` is a directory this process may create files in. A missing `root` is created, as
   * the first write would create it anyway (so a fresh `STORAGE_DIR` is ready); one that
   * cannot be created (say, a path under a regular file) or is read-only rejects. It tests
   * permissions, not free space: a full disk still fails the write itself.
   */
  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK | constants.X_OK);
  }
}
