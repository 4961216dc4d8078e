export type { Storage, StoredObject } from './storage.js';
export { DiskStorage } from './disk-storage.js';
