export { loadConfig, type Config, type Env } from './config.js';
