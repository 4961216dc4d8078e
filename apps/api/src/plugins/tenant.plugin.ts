import { DEFAULT_TENANT_ID, withTenant, type DB } from '@sluice/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely, Transaction } from 'kysely';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant every query of this request is scoped by. */
    tenantId: string;
    /** Runs `fn` in a transaction scoped to this request's tenant (see `withTenant`). */
    withTenant<T>(fn: (db: Transaction<DB>) => Promise<T>): Promise<T>;
  }
}

/** Resolves each request's tenant. Until API keys exist, that is the default tenant. */
export const tenantPlugin = fp(
  async (app: FastifyInstance, deps: { database: { db: Kysely<DB> } }) => {
    app.decorateRequest('tenantId', DEFAULT_TENANT_ID);
    app.decorateRequest('withTenant', function <T>(this: { tenantId: string }, fn: (db: Transaction<DB>) => Promise<T>): Promise<T> {
      return withTenant(deps.database.db, this.tenantId, fn);
    });
  },
  { name: 'sluice-tenant' },
);
