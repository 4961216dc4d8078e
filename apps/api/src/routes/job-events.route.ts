import { findJob } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { ApiMetrics } from '@sluice/metrics';
import type { JobEvents } from '@sluice/queue';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { errorResponses } from '../schemas.js';
import { jobView } from '../views.js';
import { UUID } from './pagination.js';

export interface JobEventsRouteOptions {
  jobEvents: JobEvents;
  metrics: ApiMetrics;
  /** How often an open stream gets a heartbeat comment and rereads its job. */
  heartbeatMs: number;
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
 * BullMQ's event stream, read once per process and fanned out (see `JobEvents`); what it
 * sends is always read from PostgreSQL in the requester's tenant, so an event is only a
 * hint. Reads never overlap: events during a read cause one more read after it. A heartbeat
 * comment every `heartbeatMs` keeps proxies from closing an idle stream and rereads the job,
 * which catches any event lost while Redis was away. Each event's `id` names the state it
 * carries; a client that reconnects with `Last-Event-ID` is not sent that state again.
 * A client that goes away ends it all: its watch, its timer and its reads.
 */
export async function jobEventRoutes(fastify: FastifyInstance, { jobEvents, metrics, heartbeatMs }: JobEventsRouteOptions) {
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
      let reading = false;
      let again = false;

      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(heartbeat);
        unwatch();
        open.delete(finish);
        metrics.eventStreams.dec();
        stream.end();
      };
      const send = (view: ReturnType<typeof jobView>): void => {
        const data = JSON.stringify(view);
        const version = versionOf(data);
        const end = TERMINAL.has(view.status);
        if (!end && version === lastSent) return;
        lastSent = version;
        stream.write(`id: ${version}\nevent: ${end ? 'end' : 'progress'}\ndata: ${data}\n\n`);
        if (end) finish();
      };
      const check = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            const job = await read();
            if (finished) return;
            if (job === undefined) return finish();
            send(jobView(job));
          } while (again && !finished);
        } catch (error) {
          // The next event or heartbeat reads again.
          request.log.warn({ err: error, jobId: id }, 'job events: reading the job failed');
        } finally {
          reading = false;
        }
      };

      const unwatch = jobEvents.watch(id, () => void check());
      const heartbeat = setInterval(() => {
        stream.write(': heartbeat\n\n');
        void check();
      }, heartbeatMs);
      open.add(finish);
      metrics.eventStreams.inc();
      // Fastify destroys the stream when the client goes away.
      stream.on('close', finish);

      stream.write(`retry: ${RECONNECT_MS}\n\n`);
      send(jobView(first));
      // An event may have come between the first read and the watch.
      if (!finished) void check();
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
