export type { Storage, StoredObject } from './storage.js';
export { DiskStorage } from './disk-storage.js';
export { openS3Storage } from './open-s3-storage.js';
export type { S3ClientOptions, S3StorageOptions } from './s3-storage.js';

/** The S3 adapter's module, loaded on demand: the AWS SDK is megabytes of heap that a disk deployment never needs. */
export const loadS3 = () => import('./s3-storage.js');
