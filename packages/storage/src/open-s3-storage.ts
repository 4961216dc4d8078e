import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientOptions, S3Storage, S3StorageOptions } from './s3-storage.js';
import type { Storage } from './storage.js';

/**
 * S3 storage for a process to use at once, while the AWS SDK loads in the background (it is
 * imported only by processes configured for S3); a read, write, removal or check waits for it.
 * `close` lets go of the client's connections.
 */
export function openS3Storage(options: S3ClientOptions & S3StorageOptions): { storage: Storage; close: () => Promise<void> } {
  const loaded: Promise<{ client: S3Client; storage: S3Storage }> = import('./s3-storage.js').then(({ createS3Client, S3Storage }) => {
    const client = createS3Client(options);
    return { client, storage: new S3Storage(client, options) };
  });
  loaded.catch(() => undefined); // a failed import is reported by every call that needs it
  return {
    storage: {
      write: async (key, body) => (await loaded).storage.write(key, body),
      read: async (key) => (await loaded).storage.read(key),
      remove: async (key) => (await loaded).storage.remove(key),
      check: async (signal) => (await loaded).storage.check(signal),
    },
    close: async () => {
      const { client } = await loaded;
      client.destroy();
    },
  };
}
