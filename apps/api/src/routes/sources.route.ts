import {
  deleteSource,
  findDatasetByName,
  findSource,
  insertSource,
  isUniqueViolation,
  listSourceRuns,
  listSources,
  updateSource,
  type SourceHeader,
} from '@sluice/db';
import { AppError, isAppError } from '@sluice/errors';
import {
  durationMs,
  incrementalSchema,
  jsonPathSchema,
  paginationSchema,
  scheduleSchema,
  startSourceRun,
  type Schedule,
} from '@sluice/ingest';
import { dequeueIngest, nextSourceRun, removeSourceSchedule, upsertSourceSchedule } from '@sluice/queue';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { jobView, sourceView } from '../views.js';
import { limitSchema, page, UUID } from './pagination.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Headers whose values are credentials whether or not the client says so. */
const ALWAYS_SECRET = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key']);

const headerValue = z.union([
  z.string().max(8192),
  z
    .object({
      /** Omitted on PATCH to keep the stored value of a secret header. */
      value: z.string().max(8192).optional(),
      secret: z.boolean().default(true),
    })
    .strict(),
]);

const fields = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be 1-100 letters, digits, "_", "." or "-"'),
  dataset: z.string().min(1),
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  method: z.enum(['GET', 'POST']),
  headers: z.record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), headerValue),
  body: z.unknown(),
  itemsPath: jsonPathSchema.nullable(),
  pagination: paginationSchema,
  maxPages: z.number().int().min(1).max(1_000_000).nullable(),
  schedule: scheduleSchema.nullable(),
  incremental: incrementalSchema.nullable(),
};

const createBody = z
  .object({
    ...fields,
    method: fields.method.default('GET'),
    headers: fields.headers.default({}),
    body: fields.body.optional(),
    itemsPath: fields.itemsPath.optional(),
    pagination: fields.pagination.default({ type: 'none' }),
    maxPages: fields.maxPages.optional(),
    schedule: fields.schedule.optional(),
    incremental: fields.incremental.optional(),
  })
  .strict();

/** Any field of a source; `state: null` forgets the incremental state (the next run pulls everything). */
const patchBody = z
  .object({ ...fields, state: z.null() })
  .partial()
  .strict();

const idParams = z.object({ id: z.string() });

type HeaderInput = z.output<typeof fields.headers>;

/** Headers as stored; a secret given without a value keeps the value stored under its name. */
function storedHeaders(input: HeaderInput, previous: SourceHeader[]): SourceHeader[] {
  return Object.entries(input).map(([name, given]) => {
    const secret = ALWAYS_SECRET.has(name.toLowerCase()) || (typeof given === 'object' && given.secret);
    const value = typeof given === 'string' ? given : given.value;
    if (value !== undefined) return { name, value, secret };
    const kept = previous.find((h) => h.name.toLowerCase() === name.toLowerCase());
    if (kept === undefined)
      throw new AppError('validation_failed', `header "${name}" has no value`, {
        details: [{ path: `headers.${name}`, message: 'a value is required' }],
      });
    return { name, value: kept.value, secret: secret || kept.secret };
  });
}

const repeatOf = (schedule: Schedule) => ('every' in schedule ? { everyMs: durationMs(schedule.every) } : { cron: schedule.cron });

/**
 * Sources: REST APIs that Sluice pulls, now (`POST /sources/:id/run`) or on a schedule (a
 * BullMQ job scheduler per source, kept in step with the row). Secret header values are
 * stored but never returned: they show as `{"secret": true}`.
 */
export async function sourceRoutes(fastify: FastifyInstance, deps: AppDeps) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  const datasetIdOf = async (request: FastifyRequest, name: string) => {
    const found = await request.withTenant((db) => findDatasetByName(db, request.tenantId, name));
    if (found === undefined) throw new AppError('not_found', `dataset "${name}" not found`);
    return found.id;
  };
  const sourceOr404 = async (request: FastifyRequest, id: string) => {
    const source = UUID.test(id) ? await request.withTenant((db) => findSource(db, request.tenantId, id)) : undefined;
    if (source === undefined) throw new AppError('not_found', `source ${id} not found`);
    return source;
  };
  const view = async (request: FastifyRequest, id: string) => {
    const source = await sourceOr404(request, id);
    const next = source.schedule === null ? null : await nextSourceRun(deps.sourceQueue, source.id).catch(() => null);
    return sourceView(source, next);
  };
  const schedule = async (tenantId: string, sourceId: string, value: Schedule | null) => {
    try {
      if (value === null) await removeSourceSchedule(deps.sourceQueue, sourceId);
      else await upsertSourceSchedule(deps.sourceQueue, { sourceId, tenantId }, repeatOf(value));
    } catch (error) {
      if (value !== null && 'cron' in value && !isAppError(error) && /cron|pattern|invalid|Validation/i.test((error as Error).message)) {
        throw new AppError('validation_failed', `schedule.cron "${value.cron}" is not a cron pattern: ${(error as Error).message}`, {
          details: [{ path: 'schedule.cron', message: (error as Error).message }],
        });
      }
      throw new AppError('unavailable', 'the scheduler (Redis) is unavailable; nothing was changed', { cause: error });
    }
  };
  const nameTaken = (name: string) => new AppError('conflict', `a source named "${name}" exists`);

  app.post('/sources', { schema: { body: createBody } }, async (request, reply) => {
    const b = request.body;
    const datasetId = await datasetIdOf(request, b.dataset);
    const tenantId = request.tenantId;
    let id: string;
    try {
      // The schedule is set inside the row's transaction: if Redis refuses it, no row stays.
      id = await request.withTenant(async (db) => {
        const source = await insertSource(db, {
          tenant_id: tenantId,
          dataset_id: datasetId,
          name: b.name,
          url: b.url,
          method: b.method,
          headers: JSON.stringify(storedHeaders(b.headers, [])),
          body: b.body === undefined ? null : JSON.stringify(b.body),
          items_path: b.itemsPath ?? null,
          pagination: JSON.stringify(b.pagination),
          max_pages: b.maxPages ?? null,
          schedule: b.schedule == null ? null : JSON.stringify(b.schedule),
          incremental: b.incremental == null ? null : JSON.stringify(b.incremental),
          state: null,
        });
        if (b.schedule != null) await schedule(tenantId, source.id, b.schedule);
        return source.id;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(b.name);
      throw error;
    }
    return reply
      .status(201)
      .header('location', `/sources/${id}`)
      .send(await view(request, id));
  });

  app.get(
    '/sources',
    { schema: { querystring: z.object({ limit: limitSchema, cursor: z.string().max(100).optional() }) } },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await request.withTenant((db) => listSources(db, request.tenantId, { limit: limit + 1, cursor }));
      const { items, nextCursor } = page(rows, limit, (s) => s.name);
      const next = await Promise.all(
        items.map((s) => (s.schedule === null ? Promise.resolve(null) : nextSourceRun(deps.sourceQueue, s.id).catch(() => null))),
      );
      return { items: items.map((s, i) => sourceView(s, next[i] ?? null)), nextCursor };
    },
  );

  app.get('/sources/:id', { schema: { params: idParams } }, async (request) => view(request, request.params.id));

  app.patch('/sources/:id', { schema: { params: idParams, body: patchBody } }, async (request) => {
    const current = await sourceOr404(request, request.params.id);
    const b = request.body;
    const datasetId = b.dataset === undefined ? undefined : await datasetIdOf(request, b.dataset);
    const tenantId = request.tenantId;
    try {
      await request.withTenant(async (db) => {
        await updateSource(db, tenantId, current.id, {
          ...(b.name === undefined ? {} : { name: b.name }),
          ...(datasetId === undefined ? {} : { dataset_id: datasetId }),
          ...(b.url === undefined ? {} : { url: b.url }),
          ...(b.method === undefined ? {} : { method: b.method }),
          ...(b.headers === undefined ? {} : { headers: JSON.stringify(storedHeaders(b.headers, current.headers)) }),
          ...(b.body === undefined ? {} : { body: b.body === null ? null : JSON.stringify(b.body) }),
          ...(b.itemsPath === undefined ? {} : { items_path: b.itemsPath }),
          ...(b.pagination === undefined ? {} : { pagination: JSON.stringify(b.pagination) }),
          ...(b.maxPages === undefined ? {} : { max_pages: b.maxPages }),
          ...(b.schedule === undefined ? {} : { schedule: b.schedule === null ? null : JSON.stringify(b.schedule) }),
          ...(b.incremental === undefined ? {} : { incremental: b.incremental === null ? null : JSON.stringify(b.incremental) }),
          ...(b.state === null ? { state: null } : {}),
        });
        if (b.schedule !== undefined) await schedule(tenantId, current.id, b.schedule);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(b.name ?? current.name);
      throw error;
    }
    return view(request, current.id);
  });

  app.delete('/sources/:id', { schema: { params: idParams } }, async (request, reply) => {
    const source = await sourceOr404(request, request.params.id);
    // The schedule goes first: a tick that fires in between finds no source and does nothing.
    await schedule(request.tenantId, source.id, null);
    const deleted = await request.withTenant((db) => deleteSource(db, request.tenantId, source.id));
    if (deleted === undefined) throw new AppError('not_found', `source ${source.id} not found`);
    if (deleted.cancelledRun !== null) await dequeueIngest(deps.queue, deleted.cancelledRun).catch(() => undefined);
    return reply.status(204).send();
  });

  app.post('/sources/:id/run', { schema: { params: idParams } }, async (request, reply) => {
    const source = await sourceOr404(request, request.params.id);
    const started = await startSourceRun((fn) => request.withTenant(fn), deps, request.tenantId, source.id, request.id);
    if (started.started) return reply.status(202).header('location', `/jobs/${started.job.id}`).send(jobView(started.job));
    if (started.reason === 'open') {
      throw new AppError('conflict', `source "${source.name}" has a run in progress (job ${started.jobId})`, {
        details: { jobId: started.jobId },
      });
    }
    throw new AppError('not_found', `source ${source.id} not found`);
  });

  app.get(
    '/sources/:id/runs',
    { schema: { params: idParams, querystring: z.object({ limit: limitSchema, cursor: z.string().regex(UUID).optional() }) } },
    async (request) => {
      const source = await sourceOr404(request, request.params.id);
      const { limit, cursor } = request.query;
      const rows = await request.withTenant((db) => listSourceRuns(db, request.tenantId, source.id, { limit: limit + 1, cursor }));
      const { items, nextCursor } = page(rows, limit, (j) => j.id);
      return { items: items.map(jobView), nextCursor };
    },
  );
}
