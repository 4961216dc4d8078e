import { findDatasetById, findDatasetByName, findJob, findRecord, findSource, listRecords, type Dataset, type DB } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { FieldSpec } from '@sluice/pipeline';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, pageSchema, recordSchema } from '../schemas.js';
import { recordView } from '../views.js';
import type { Kysely } from 'kysely';
import { limitSchema, page, UUID } from './pagination.js';
import { dataFilters } from './record-filters.js';

const tags = ['records'];
const getSchema = { tags, summary: 'One record', params: z.object({ id: z.string() }), response: { 200: recordSchema, ...errorResponses } };

export async function recordRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/records',
    {
      schema: {
        tags,
        summary: 'Records of a dataset, a job or a source, filtered, in identity order, a page at a time',
        response: { 200: pageSchema(recordSchema), ...errorResponses },
        querystring: z
          .object({
            dataset: z.string().min(1).optional(),
            job: z.string().regex(UUID, 'must be a job id').optional(),
            source: z.string().regex(UUID, 'must be a source id').optional(),
            since: z.iso.datetime({ offset: true }).optional(),
            until: z.iso.datetime({ offset: true }).optional(),
            limit: limitSchema,
            cursor: z
              .string()
              .regex(/^[0-9a-f]{64}$/, 'must be a cursor from a previous page')
              .optional(),
          })
          .catchall(z.union([z.string(), z.array(z.string())]))
          .refine((q) => q.dataset !== undefined || q.job !== undefined || q.source !== undefined, {
            message: 'name a dataset, a job or a source',
            path: ['dataset'],
          }),
      },
    },
    async (request) => {
      const { dataset, job, source, since, until, limit, cursor } = request.query;
      const tenantId = request.tenantId;
      const rows = await request.withTenant(async (db) => {
        const found = await datasetOf(db, tenantId, { dataset, job, source });
        if (found === undefined) return [];
        return listRecords(db, tenantId, {
          datasetId: found.id,
          limit: limit + 1,
          cursor,
          jobId: job,
          sourceId: source,
          since: since === undefined ? undefined : new Date(since),
          until: until === undefined ? undefined : new Date(until),
          data: dataFilters(request.query, found.fields as FieldSpec[]),
        });
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

/**
 * The dataset a records query walks: the one named, else the job's or the source's. A named
 * dataset that is not there is a 404; a job or source of another dataset matches nothing.
 */
async function datasetOf(
  db: Kysely<DB>,
  tenantId: string,
  q: { dataset?: string | undefined; job?: string | undefined; source?: string | undefined },
): Promise<Dataset | undefined> {
  let datasetId: string | undefined;
  if (q.job !== undefined) {
    const job = await findJob(db, tenantId, q.job);
    if (job === undefined) throw new AppError('not_found', `job ${q.job} not found`);
    datasetId = job.dataset_id;
  }
  if (q.source !== undefined) {
    const source = await findSource(db, tenantId, q.source);
    if (source === undefined) throw new AppError('not_found', `source ${q.source} not found`);
    if (datasetId !== undefined && datasetId !== source.dataset_id) return undefined;
    datasetId = source.dataset_id;
  }
  if (q.dataset !== undefined) {
    const found = await findDatasetByName(db, tenantId, q.dataset);
    if (found === undefined) throw new AppError('not_found', `dataset "${q.dataset}" not found`);
    return datasetId === undefined || datasetId === found.id ? found : undefined;
  }
  return datasetId === undefined ? undefined : findDatasetById(db, tenantId, datasetId);
}
