import { hashApiKey, isWellFormedApiKey } from '@sluice/auth';
import { ApiKeyCache, withTenant, type DB } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { presentsKey } from './admin-key.js';

/** Who may call a route: a tenant's API key (the default), the admin key, or anyone. */
export type RouteAuth = 'tenant' | 'admin' | 'none';

declare module 'fastify' {
  interface FastifyInstance {
    /** What API keys resolve to, in memory (see `ApiKeyCache`). */
    apiKeys: ApiKeyCache;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The tenant every query of this request is scoped by: the API key's. */
    tenantId: string;
    /** The API key the request authenticated with; rate limits count per key. */
    apiKeyId: string | undefined;
    /** Runs `fn` in a transaction scoped to this request's tenant (see `withTenant`). */
    withTenant<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  }
}

const UNAUTHORIZED = 'a valid API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"';

/** A route's own `config.auth`; a path without a route is the operator's under /admin/, else the tenant's. */
function routeAuth(request: FastifyRequest): RouteAuth {
  return request.routeOptions.config.auth ?? (request.url.startsWith('/admin/') ? 'admin' : 'tenant');
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? '';
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/**
 * Authenticates every request. A route is the tenant's unless it says otherwise
 * (`config.auth`): the key is looked up by its SHA-256, and the request acts as the key's
 * tenant from then on. Missing, malformed, unknown and revoked keys get the same 401, so an
 * answer never tells which. `X-Tenant-ID`, when sent, must name the key's tenant (403).
 *
 * The key is resolved in `onRequest` and enforced in `preParsing`, so that the rate limiter
 * (a route hook between the two) counts failed attempts per client address and never reads
 * a body for them. Admin routes take the admin key, as a bearer token or a basic-auth password.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, deps: { database: { db: Kysely<DB>; pool: pg.Pool }; adminKey: string | null }) => {
    const { db } = deps.database;
    const keys = new ApiKeyCache(db, deps.database.pool, {
      ttlMs: 30_000,
      maxEntries: 10_000,
      onError: (error) => app.log.warn({ err: error }, 'not listening for key revocations; every request asks the database until it is'),
    });
    await keys.start();
    app.decorate('apiKeys', keys);
    app.addHook('onClose', async () => keys.close());
    app.decorateRequest('tenantId', '');
    app.decorateRequest('apiKeyId', undefined);
    app.decorateRequest('withTenant', function <T>(this: FastifyRequest, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
      if (this.tenantId === '') throw new AppError('unauthorized', UNAUTHORIZED);
      return withTenant(db, this.tenantId, fn);
    });

    app.addHook('onRequest', async (request) => {
      if (routeAuth(request) !== 'tenant') return;
      const key = presentedKey(request);
      if (key === undefined || !isWellFormedApiKey(key)) return;
      const found = await keys.lookup(hashApiKey(key));
      if (found === undefined) return;
      request.tenantId = found.tenantId;
      request.apiKeyId = found.keyId;
    });

    app.addHook('preParsing', async (request) => {
      const auth = routeAuth(request);
      if (auth === 'none') return;
      if (auth === 'admin') {
        if (deps.adminKey === null) throw new AppError('not_found', `route ${request.method} ${request.url.split('?')[0]} not found`);
        if (!presentsKey(request.headers.authorization, deps.adminKey)) {
          throw new AppError('unauthorized', 'the admin key is required: send "Authorization: Bearer <ADMIN_KEY>"');
        }
        return;
      }
      if (request.apiKeyId === undefined) throw new AppError('unauthorized', UNAUTHORIZED);
      const claimed = request.headers['x-tenant-id'];
      if (claimed !== undefined && (typeof claimed !== 'string' || claimed.trim().toLowerCase() !== request.tenantId)) {
        throw new AppError('forbidden', "X-Tenant-ID does not match the API key's tenant");
      }
    });

    app.addHook('onSend', async (request, reply) => {
      if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer realm="sluice"');
    });
  },
  { name: 'sluice-auth' },
);
