import { findDatasetByName, insertDataset, isUniqueViolation, listDatasets } from '@sluice/db';
import { AppError } from '@sluice/errors';
import { datasetSpecSchema } from '@sluice/pipeline';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { datasetSchema, errorResponses } from '../schemas.js';
import { datasetView } from '../views.js';

const tags = ['datasets'];
const schemas = {
  create: {
    tags,
    summary: 'Define a dataset: its fields, their types and constraints, and the key that identifies a record',
    body: datasetSpecSchema,
    response: { 201: datasetSchema, ...errorResponses },
  },
  list: { tags, summary: 'List datasets', response: { 200: z.object({ items: z.array(datasetSchema) }), ...errorResponses } },
  get: { tags, summary: 'One dataset', params: z.object({ name: z.string() }), response: { 200: datasetSchema, ...errorResponses } },
};

export async function datasetRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post('/datasets', { schema: schemas.create }, async (request, reply) => {
    const spec = request.body;
    try {
      const dataset = await request.withTenant((db) =>
        insertDataset(db, { tenantId: request.tenantId, name: spec.name, fields: spec.fields, key: spec.key, options: spec.options }),
      );
      return reply.status(201).header('location', `/datasets/${dataset.name}`).send(datasetView(dataset));
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `a dataset named "${spec.name}" already exists`);
      throw error;
    }
  });

  app.get('/datasets', { schema: schemas.list }, async (request) => ({
    items: (await request.withTenant((db) => listDatasets(db, request.tenantId))).map(datasetView),
  }));

  app.get('/datasets/:name', { schema: schemas.get }, async (request) => {
    const dataset = await request.withTenant((db) => findDatasetByName(db, request.tenantId, request.params.name));
    if (dataset === undefined) throw new AppError('not_found', `dataset "${request.params.name}" not found`);
    return datasetView(dataset);
  });
}
