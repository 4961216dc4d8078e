import { DEFAULT_TENANT_ID } from '@sluice/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant every query of this request is scoped by. */
    tenantId: string;
  }
}

/** Resolves each request's tenant. Until API keys exist, that is the default tenant. */
export const tenantPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('tenantId', DEFAULT_TENANT_ID);
  },
  { name: 'sluice-tenant' },
);
