import { findDatasetByName, findRecord, listRecords } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, pageSchema, recordSchema } from '../schemas.js';
import { recordView } from '../views.js';

const tags = ['records'];
const getSchema = { tags, summary: 'One record', params: z.object({ id: z.string() }), response: { 200: recordSchema, ...errorResponses } };
import { limitSchema, page } from './pagination.js';

export async function recordRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/records',
    {
      schema: {
        tags,
        summary: "A dataset's records in identity order, a page at a time",
        response: { 200: pageSchema(recordSchema), ...errorResponses },
        querystring: z.object({
          dataset: z.string().min(1),
          limit: limitSchema,
          cursor: z
            .string()
            .regex(/^[0-9a-f]{64}$/, 'must be a cursor from a previous page')
            .optional(),
        }),
      },
    },
    async (request) => {
      const { dataset, limit, cursor } = request.query;
      const rows = await request.withTenant(async (db) => {
        const found = await findDatasetByName(db, request.tenantId, dataset);
        if (found === undefined) throw new AppError('not_found', `dataset "${dataset}" not found`);
        return listRecords(db, request.tenantId, { datasetId: found.id, limit: limit + 1, cursor });
      });
      const { items, nextCursor } = page(rows, limit, (r) => r.key);
      return { items: items.map(recordView), nextCursor };
    },
  );

  app.get('/records/:id', { schema: getSchema }, async (request) => {
    const id = /^\d{1,15}$/.test(request.params.id) ? Number(request.params.id) : undefined;
    const record = id === undefined ? undefined : await request.withTenant((db) => findRecord(db, request.tenantId, id));
    if (record === undefined) throw new AppError('not_found', `record ${request.params.id} not found`);
    return recordView(record);
  });
}
