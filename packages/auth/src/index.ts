export { generateApiKey, hashApiKey, isWellFormedApiKey, type NewApiKey } from './api-key.js';
export { createApiKey, createTenant, listTenantKeys, resolveTenant, revokeTenantKey, type IssuedKey } from './tenants.js';
