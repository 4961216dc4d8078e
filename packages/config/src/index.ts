export { loadConfig, type Config, type DiskStorageConfig, type Env, type S3StorageConfig } from './config.js';
