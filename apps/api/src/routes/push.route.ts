import { findDatasetByName } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { PushBatcher } from '@sluice/ingest';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { jobView } from '../views.js';

export interface PushRouteDeps {
  pushBatcher: PushBatcher;
  config: { push: { maxBytes: number } };
}

// A dataset's id by name, briefly remembered: a push per record must not cost a lookup
// transaction each. Datasets are never renamed or dropped, so a stale entry is only ever
// a missing one (a 404 for a dataset created in the last second).
const DATASET_TTL_MS = 1_000;

function linesOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length > 0) out.push(line);
  }
  return out;
}

/** The pushed body as NDJSON lines, one per record. */
function recordLines(request: FastifyRequest): string[] {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = request.body;
  if (type === 'application/json') {
    if (Array.isArray(body)) return body.map((item) => JSON.stringify(item));
    if (typeof body === 'object' && body !== null) return [JSON.stringify(body)];
    throw new AppError('bad_request', 'a JSON push is one object or an array of objects');
  }
  if (typeof body !== 'string') throw new AppError('unsupported_media_type', 'push application/json, application/x-ndjson or text/plain');
  if (type === 'text/plain') {
    // A line becomes {"message", "received_at"}; a dataset maps them with its fields' names or aliases.
    const receivedAt = new Date().toISOString();
    return linesOf(body).map((line) => JSON.stringify({ message: line, received_at: receivedAt }));
  }
  return linesOf(body);
}

/**
 * `POST /ingest?dataset=NAME`: takes records as they happen (a JSON object or array, NDJSON,
 * or text lines) and answers 202 once they are durable in a batch's job, which the worker
 * then runs like an upload. See `PushBatcher` for how pushes coalesce.
 */
export async function pushRoutes(fastify: FastifyInstance, deps: PushRouteDeps) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const text = { parseAs: 'string' as const, bodyLimit: deps.config.push.maxBytes };
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl', 'application/ndjson'], text, (_req, body, done) =>
    done(null, body),
  );
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', text, (_req, body, done) => done(null, body));

  const datasets = new Map<string, { id: string; at: number }>();
  const datasetIdOf = async (request: FastifyRequest, name: string): Promise<string> => {
    const key = `${request.tenantId}/${name}`;
    const cached = datasets.get(key);
    if (cached !== undefined && performance.now() - cached.at < DATASET_TTL_MS) return cached.id;
    const found = await request.withTenant((db) => findDatasetByName(db, request.tenantId, name));
    if (found === undefined) throw new AppError('not_found', `dataset "${name}" not found`);
    if (datasets.size > 10_000) datasets.clear();
    datasets.set(key, { id: found.id, at: performance.now() });
    return found.id;
  };

  app.post(
    '/ingest',
    {
      bodyLimit: deps.config.push.maxBytes,
      schema: {
        querystring: z.object({ dataset: z.string().min(1) }),
      },
    },
    async (request, reply) => {
      const datasetId = await datasetIdOf(request, request.query.dataset);
      const lines = recordLines(request);
      if (lines.length === 0) throw new AppError('bad_request', 'the push holds no records');
      const receipt = await deps.pushBatcher.push(
        { tenantId: request.tenantId, datasetId, datasetName: request.query.dataset },
        lines,
        request.id,
      );
      return reply
        .status(202)
        .header('location', `/jobs/${receipt.job.id}`)
        .send({ ...jobView(receipt.job), push: { records: receipt.records, firstRow: receipt.firstRow, lastRow: receipt.lastRow } });
    },
  );
}
