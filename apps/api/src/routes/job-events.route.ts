import { findJob, type JobView } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { ApiMetrics } from '@sluice/metrics';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { JobWatchers } from '../job-watchers.js';
import { errorResponses } from '../schemas.js';
import { jobView } from '../views.js';
import { UUID } from './pagination.js';

export interface JobEventsRouteOptions {
  watchers: JobWatchers;
  metrics: ApiMetrics;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const RECONNECT_MS = 2_000;

/** A short name for a state of the job: the same view gets the same id. */
const versionOf = (data: string) => createHash('sha256').update(data).digest('base64url').slice(0, 16);

/**
 * `GET /jobs/:id/events`: the job's progress as Server-Sent Events, so a client need not poll.
 *
 * Design: the stream sends the job's view (as `GET /jobs/:id` answers it) as `event: progress`
 * each time it changes, then `event: end` with the final one, and closes. What wakes it is
 * BullMQ's event stream, read once per process (see `JobEvents`), and what it sends is the
 * job's row read in the requester's tenant, shared by every stream of that job and tenant
 * (see `JobWatchers`), so an event is only a hint and costs one read however many watch. A
 * heartbeat comment every `EVENTS_HEARTBEAT_MS` keeps proxies from closing a quiet stream,
 * and rereads the job, which catches an event lost while Redis was away. Each event's `id`
 * names the state it carries: a client that reconnects with `Last-Event-ID` is not sent that
 * state again. A client that goes away ends its part at once.
 */
export async function jobEventRoutes(fastify: FastifyInstance, { watchers, metrics }: JobEventsRouteOptions) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const open = new Set<() => void>();
  // Streams do not end by themselves: close them, or closing the server waits for them.
  app.addHook('preClose', async () => {
    for (const finish of open) finish();
  });

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: "The job's progress and final state as Server-Sent Events: `progress` on each change, then `end`",
        description:
          "Each event's data is the job as `GET /jobs/{id}` answers it. The stream closes after `end`; a client should not reconnect then. Comments (`: heartbeat`) keep it open through proxies. `Last-Event-ID` skips a state already seen.",
        produces: ['text/event-stream'],
        params: z.object({ id: z.string() }),
        response: { 200: z.string().describe('text/event-stream'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const tenantId = request.tenantId;
      const read = () => request.withTenant((db) => findJob(db, tenantId, id));
      const first = UUID.test(id) ? await read() : undefined;
      if (first === undefined) throw new AppError('not_found', `job ${id} not found`);

      const stream = new PassThrough();
      const given = request.headers['last-event-id'];
      let lastSent = typeof given === 'string' ? given : undefined;
      let finished = false;
      let unwatch = () => {};

      const finish = () => {
        if (finished) return;
        finished = true;
        unwatch();
        open.delete(finish);
        metrics.eventStreams.dec();
        stream.end();
      };
      // A client that went away destroys the stream before its 'close' is heard.
      const write = (text: string) => {
        if (!stream.destroyed) stream.write(text);
      };
      const send = (job: JobView | undefined): void => {
        if (finished) return;
        if (job === undefined) return finish();
        const view = jobView(job);
        const data = JSON.stringify(view);
        const version = versionOf(data);
        const end = TERMINAL.has(view.status);
        if (!end && version === lastSent) return;
        lastSent = version;
        write(`id: ${version}\nevent: ${end ? 'end' : 'progress'}\ndata: ${data}\n\n`);
        if (end) finish();
      };

      open.add(finish);
      metrics.eventStreams.inc();
      // Fastify destroys the stream when the client goes away.
      stream.on('close', finish);
      write(`retry: ${RECONNECT_MS}\n\n`);
      send(first);
      if (!finished) {
        unwatch = watchers.watch(tenantId, id, read, { onJob: send, onHeartbeat: () => write(': heartbeat\n\n') });
      }
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          .header('x-accel-buffering', 'no')
          // A stream is sent as it is, never serialized; the schema above is for the document.
          .send(stream as unknown as string)
      );
    },
  );
}
