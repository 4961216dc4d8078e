import type { MultipartFile } from '@fastify/multipart';
import { findDatasetByName, findJob, findJobByIdempotencyKey, insertJob, isUniqueViolation, type Dataset, type JobView } from '@sluice/db';
import { AppError, isAppError } from '@sluice/errors';
import { FORMATS, peekBytes, resolveFormat, sniffContent, uploadReadFieldsSchema, type Format, type ReadOptions } from '@sluice/pipeline';
import { enqueueIngest } from '@sluice/queue';
import type { StoredObject } from '@sluice/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AppDeps } from '../app.js';
import { errorResponses, jobSchema } from '../schemas.js';
import { jobView } from '../views.js';

const READ_FIELDS = ['encoding', 'delimiter', 'decimal', 'header', 'sheet', 'unknownColumns', 'maxErrors', 'maxErrorRate', 'atomic'];
const FIELDS = new Set(['dataset', 'format', ...READ_FIELDS]);
const MAX_FILE_NAME = 255;

interface Received {
  dataset: Dataset;
  format: Format;
  options: ReadOptions;
  fileName: string;
  stored: StoredObject;
  jobId: string;
}

function cleanFileName(name: string | undefined): string | null {
  if (name === undefined || name === '') return null;
  // Kept only as metadata, never as a path: the last path segment, without control characters.
  const base = name.split(/[\\/]/).at(-1) ?? '';
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const printable = base.replace(/[\u0000-\u001f\u007f]/g, '');
  return printable.slice(0, MAX_FILE_NAME) || null;
}

/** The read options among the upload's fields (`header=false`, `maxErrors=10`, …); a bad one is a 400. */
function readOptionsOf(fields: Map<string, string>): ReadOptions {
  const given = Object.fromEntries(READ_FIELDS.filter((f) => fields.has(f)).map((f) => [f, fields.get(f)]));
  const parsed = uploadReadFieldsSchema.safeParse(given);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new AppError('validation_failed', `invalid upload fields: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, { details });
  }
  return parsed.data;
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new AppError('bad_request', 'Idempotency-Key must be one header of 1-200 characters');
  }
  return key;
}

/**
 * `POST /upload`: streams the file to storage while counting and hashing it, then records
 * the job and queues it. Fields must come before the file so that a bad dataset or format
 * is refused before a byte is stored. Whatever goes wrong, no file and no job stay behind.
 */
export async function uploadRoutes(app: FastifyInstance, deps: AppDeps) {
  const receive = async (request: FastifyRequest): Promise<Received> => {
    const fields = new Map<string, string>();
    let received: Received | undefined;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          if (!FIELDS.has(part.fieldname)) {
            throw new AppError('bad_request', `unexpected field "${part.fieldname.slice(0, 100)}"; expected dataset, format, ${READ_FIELDS.join(', ')} and file`);
          }
          if (fields.has(part.fieldname)) throw new AppError('bad_request', `field "${part.fieldname}" is given twice`);
          // A tab is a delimiter, not whitespace to trim.
          const value = String(part.value);
          fields.set(part.fieldname, part.fieldname === 'delimiter' ? value : value.trim());
          continue;
        }
        received = await receiveFile(request, part, fields);
      }
    } catch (error) {
      if (received !== undefined) await deps.storage.remove(received.stored.key);
      throw error;
    }
    if (received === undefined) throw new AppError('missing_file', 'no file part: send the file as multipart field "file"');
    return received;
  };

  const receiveFile = async (request: FastifyRequest, part: MultipartFile, fields: Map<string, string>): Promise<Received> => {
    if (part.fieldname !== 'file') throw new AppError('bad_request', `unexpected file field "${part.fieldname.slice(0, 100)}"; send the file as "file"`);
    const name = fields.get('dataset');
    if (name === undefined || name === '')
      throw new AppError('validation_failed', 'field "dataset" is required and must come before the file');
    const dataset = await request.withTenant((db) => findDatasetByName(db, request.tenantId, name));
    if (dataset === undefined) throw new AppError('not_found', `dataset "${name}" not found`);
    const fileName = cleanFileName(part.filename) ?? 'upload';
    const options = readOptionsOf(fields);
    const format = resolveFormat({ declared: fields.get('format'), fileName, contentType: part.mimetype });
    if (format === undefined) {
      throw new AppError(
        'unsupported_media_type',
        `cannot tell the format of "${fileName}": name a format (${FORMATS.join(', ')}) or use a matching file extension`,
      );
    }
    const jobId = randomUUID();
    return { dataset, format, options, fileName, stored: await store(part, format, options, `${request.tenantId}/${jobId}`), jobId };
  };

  const truncated = () => new AppError('bad_request', 'the upload ended inside the file part: the multipart body has no closing boundary');

  const store = async (part: MultipartFile, format: Format, options: ReadOptions, key: string): Promise<StoredObject> => {
    // A body that ended inside the file part leaves the part's stream destroyed before we
    // read it (the multipart parser gives up on it), and piping from it would wait forever.
    if (part.file.destroyed) throw truncated();
    try {
      // The first bytes decide what the file is, whatever its name and type say; a refused
      // file is never written.
      const { head, bytes } = await peekBytes(part.file);
      const sniff = sniffContent(head, { format, encoding: options.encoding });
      if (sniff.refused !== undefined) throw new AppError('unsupported_media_type', sniff.refused, { details: { detected: sniff.kind } });
      return await deps.storage.write(key, Readable.from(bytes));
    } catch (error) {
      // The client's body broke off (and the client is still there to be told): a 400, not ours.
      if (part.file.readableAborted && !(error as { statusCode?: number }).statusCode && !isAppError(error)) throw truncated();
      throw error;
    }
  };

  const accepted = (reply: FastifyReply, job: JobView, status: 200 | 202) =>
    reply.status(status).header('location', `/jobs/${job.id}`).send(jobView(job));

  // The multipart body is read as a stream, so it has no body schema to validate; the
  // OpenAPI document describes it (see docs.plugin.ts).
  const schema = {
    tags: ['jobs'],
    summary: 'Upload a file to ingest: multipart, the field "dataset" (and optionally "format") before the part "file"',
    consumes: ['multipart/form-data'],
    response: { 200: jobSchema.describe('the job of an earlier upload with the same Idempotency-Key'), 202: jobSchema, ...errorResponses },
  };

  app.post('/upload', { schema }, async (request, reply) => {
    if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'send the file as multipart/form-data');
    const idempotencyKey = idempotencyKeyOf(request);
    if (idempotencyKey !== undefined) {
      const existing = await request.withTenant((db) => findJobByIdempotencyKey(db, request.tenantId, idempotencyKey));
      if (existing !== undefined) return accepted(reply, existing, 200);
    }

    const r = await receive(request);
    const tenantId = request.tenantId;
    try {
      await request.withTenant((db) =>
        insertJob(db, {
          id: r.jobId,
          tenant_id: tenantId,
          dataset_id: r.dataset.id,
          kind: 'upload',
          status: 'queued',
          format: r.format,
          options: JSON.stringify(r.options),
          file_name: r.fileName,
          storage_key: r.stored.key,
          size_bytes: r.stored.sizeBytes,
          sha256: r.stored.sha256,
          idempotency_key: idempotencyKey ?? null,
          correlation_id: request.id,
          columns: null,
          error: null,
          started_at: null,
          finished_at: null,
        }),
      );
    } catch (error) {
      await deps.storage.remove(r.stored.key);
      if (idempotencyKey !== undefined && isUniqueViolation(error)) {
        const existing = await request.withTenant((db) => findJobByIdempotencyKey(db, tenantId, idempotencyKey));
        if (existing !== undefined) return accepted(reply, existing, 200);
      }
      throw error;
    }
    try {
      await enqueueIngest(deps.queue, { jobId: r.jobId, tenantId, correlationId: request.id }, deps.retry);
    } catch (error) {
      // The job row is durable; the worker's reconciler queues jobs that Redis does not have.
      request.log.warn({ err: error, jobId: r.jobId }, 'enqueue failed; the reconciler will queue the job');
    }
    request.log.info({ jobId: r.jobId, sizeBytes: r.stored.sizeBytes, format: r.format, dataset: r.dataset.name }, 'upload accepted');
    const job = await request.withTenant((db) => findJob(db, tenantId, r.jobId));
    if (job === undefined) throw new AppError('internal', 'the job vanished right after it was created');
    return accepted(reply, job, 202);
  });
}
