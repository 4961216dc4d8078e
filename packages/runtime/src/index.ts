export { createDeps, type Deps } from './create-deps.js';
