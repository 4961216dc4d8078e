import { cancelJob, findDatasetByName, findJob, listJobs, listRejectedColumns, listValidationErrors, reopenJob } from '@sluice/db';
import { AppError } from '@sluice/errors';
import { dequeueIngest, enqueueIngest } from '@sluice/queue';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { errorResponses, jobSchema, JOB_STATUSES, pageSchema, validationErrorSchema } from '../schemas.js';
import { jobView, validationErrorView } from '../views.js';
import { errorsCsv } from './errors-csv.js';
import { limitSchema, page, UUID } from './pagination.js';

const idParams = z.object({ id: z.string() });
const tags = ['jobs'];
const oneJob = { 200: jobSchema, ...errorResponses };
const schemas = {
  get: { tags, summary: 'One job: status, file, counts, progress, error', params: idParams, response: oneJob },
  cancel: { tags, summary: 'Cancel a queued or running job; a running one stops at its next batch boundary', params: idParams, response: oneJob },
  retry: { tags, summary: 'Run a failed or cancelled job again from its checkpoint', params: idParams, response: { 202: jobSchema, ...errorResponses } },
};

export async function jobRoutes(fastify: FastifyInstance, deps: AppDeps) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const jobOr404 = async (request: FastifyRequest, id: string) => {
    const job = UUID.test(id) ? await request.withTenant((db) => findJob(db, request.tenantId, id)) : undefined;
    if (job === undefined) throw new AppError('not_found', `job ${id} not found`);
    return job;
  };

  app.get(
    '/jobs',
    {
      schema: {
        tags,
        summary: 'Jobs, newest first, a page at a time',
        response: { 200: pageSchema(jobSchema), ...errorResponses },
        querystring: z.object({
          status: z.enum(JOB_STATUSES).optional(),
          dataset: z.string().optional(),
          limit: limitSchema,
          cursor: z.string().regex(UUID).optional(),
        }),
      },
    },
    async (request) => {
      const { status, dataset, limit, cursor } = request.query;
      const rows = await request.withTenant(async (db) => {
        let datasetId: string | undefined;
        if (dataset !== undefined) {
          const found = await findDatasetByName(db, request.tenantId, dataset);
          if (found === undefined) return [];
          datasetId = found.id;
        }
        return listJobs(db, request.tenantId, { status, datasetId, limit: limit + 1, cursor });
      });
      const { items, nextCursor } = page(rows, limit, (j) => j.id);
      return { items: items.map(jobView), nextCursor };
    },
  );

  app.get('/jobs/:id', { schema: schemas.get }, async (request) => jobView(await jobOr404(request, request.params.id)));

  // Stops a queued or running job; a running one stops at its next batch boundary.
  app.post('/jobs/:id/cancel', { schema: schemas.cancel }, async (request) => {
    const job = await jobOr404(request, request.params.id);
    if (!(await request.withTenant((db) => cancelJob(db, request.tenantId, job.id)))) {
      throw new AppError('conflict', `job ${job.id} is ${job.status}; only queued or processing jobs can be cancelled`);
    }
    await dequeueIngest(deps.queue, job.id);
    return jobView(await jobOr404(request, job.id));
  });

  // Runs a failed or cancelled job again from its checkpoint.
  app.post('/jobs/:id/retry', { schema: schemas.retry }, async (request, reply) => {
    const job = await jobOr404(request, request.params.id);
    if (!(await request.withTenant((db) => reopenJob(db, request.tenantId, job.id)))) {
      throw new AppError('conflict', `job ${job.id} is ${job.status}; only failed or cancelled jobs can be retried`);
    }
    // The answer is the job as this request left it; a worker may take it the moment it is queued.
    const reopened = await jobOr404(request, job.id);
    try {
      await dequeueIngest(deps.queue, job.id);
      await enqueueIngest(deps.queue, { jobId: job.id, tenantId: request.tenantId, correlationId: request.id }, deps.retry);
    } catch (error) {
      // The reopened row is durable; the worker's reconciler queues jobs that Redis does not have.
      request.log.warn({ err: error, jobId: job.id }, 'enqueue failed; the reconciler will queue the job');
    }
    return reply.status(202).header('location', `/jobs/${job.id}`).send(jobView(reopened));
  });

  app.get(
    '/jobs/:id/errors',
    {
      schema: {
        tags,
        summary: "A job's rejected rows in file order, as JSON pages or (format=csv) a CSV to fix and upload again",
        produces: ['application/json', 'text/csv'],
        params: idParams,
        response: { 200: pageSchema(validationErrorSchema), ...errorResponses },
        querystring: z.object({
          limit: limitSchema,
          cursor: z.coerce.number().int().min(0).optional(),
          format: z.enum(['json', 'csv']).default('json'),
        }),
      },
    },
    async (request, reply) => {
      const job = await jobOr404(request, request.params.id);
      const { limit, cursor, format } = request.query;
      if (format === 'csv') {
        const rows = (after: number | undefined) =>
          request.withTenant((db) => listValidationErrors(db, request.tenantId, { jobId: job.id, limit: 1000, cursor: after }));
        const columns = job.columns ?? (await request.withTenant((db) => listRejectedColumns(db, request.tenantId, job.id)));
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${job.id}-errors.csv"`)
          // A stream is sent as it is, never serialized: the 200 schema describes the JSON answer.
          .send(Readable.from(errorsCsv(columns, rows)) as never);
      }
      const rows = await request.withTenant((db) =>
        listValidationErrors(db, request.tenantId, { jobId: job.id, limit: limit + 1, cursor }),
      );
      const { items, nextCursor } = page(rows, limit, (e) => e.row_number);
      return { items: items.map(validationErrorView), nextCursor };
    },
  );
}
