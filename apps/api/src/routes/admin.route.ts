import { createApiKey, createTenant, listTenantKeys, resolveTenant, revokeTenantKey } from '@sluice/auth';
import { listTenants, type DB } from '@sluice/db';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { apiKeyView, tenantView } from '../views.js';

const tenantParams = z.object({ tenant: z.string().min(1).max(100) });
const keyName = z.string().min(1).max(100).optional();

/**
 * Tenants and their API keys, for the operator: every route needs the admin key
 * (`ADMIN_KEY`); without one configured they do not exist. `:tenant` is an id or a name.
 * A key is in the answer that creates it, and never again.
 */
export async function adminRoutes(fastify: FastifyInstance, deps: { database: { db: Kysely<DB> } }) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = deps.database;
  const config = { auth: 'admin' as const };
  const doc = (summary: string) => ({ tags: ['admin'], summary, security: [{ adminKey: [] }] });

  app.post(
    '/admin/tenants',
    { config, schema: { ...doc('Create a tenant and its first API key (shown once)'), body: z.object({ name: z.string(), keyName }) } },
    async (request, reply) => {
      const created = await createTenant(db, request.body.name, request.body.keyName);
      return reply
        .status(201)
        .header('location', `/admin/tenants/${created.tenant.id}`)
        .send({ tenant: tenantView(created.tenant), key: created.key, apiKey: apiKeyView(created.apiKey) });
    },
  );

  app.get('/admin/tenants', { config, schema: doc('List tenants') }, async () => ({ items: (await listTenants(db)).map(tenantView) }));

  app.get('/admin/tenants/:tenant', { config, schema: { ...doc('A tenant, by id or name'), params: tenantParams } }, async (request) =>
    tenantView(await resolveTenant(db, request.params.tenant)),
  );

  app.get(
    '/admin/tenants/:tenant/keys',
    { config, schema: { ...doc("A tenant's keys (never the keys themselves)"), params: tenantParams } },
    async (request) => {
      const tenant = await resolveTenant(db, request.params.tenant);
      return { items: (await listTenantKeys(db, tenant.id)).map(apiKeyView) };
    },
  );

  app.post(
    '/admin/tenants/:tenant/keys',
    {
      config,
      schema: {
        ...doc('Another API key for the tenant (shown once)'),
        params: tenantParams,
        body: z.object({ name: keyName }).default({}),
      },
    },
    async (request, reply) => {
      const tenant = await resolveTenant(db, request.params.tenant);
      const issued = await createApiKey(db, tenant.id, request.body.name);
      return reply.status(201).send({ key: issued.key, apiKey: apiKeyView(issued.apiKey) });
    },
  );

  app.delete(
    '/admin/tenants/:tenant/keys/:key',
    { config, schema: { ...doc('Revoke a key by id or prefix'), params: tenantParams.extend({ key: z.string().min(1).max(100) }) } },
    async (request) => {
      const tenant = await resolveTenant(db, request.params.tenant);
      const revoked = apiKeyView(await revokeTenantKey(db, tenant.id, request.params.key));
      fastify.apiKeys.clear();
      return revoked;
    },
  );
}
