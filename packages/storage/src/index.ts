export type { Storage, StoredObject } from './storage.js';
export { DiskStorage } from './disk-storage.js';
export { createS3Client, S3Storage, type S3ClientOptions, type S3StorageOptions } from './s3-storage.js';
