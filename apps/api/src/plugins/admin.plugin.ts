import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { presentsKey } from './admin-key.js';
import { errorBody } from './errors.plugin.js';

/** Where the queue dashboard is served. */
export const QUEUE_DASHBOARD_PREFIX = '/admin/queues';

export interface AdminPluginOptions {
  adminKey: string;
  queue: Queue;
}

/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, for the admin key only: as
 * `Authorization: Bearer <ADMIN_KEY>`, or as the password of HTTP basic auth, which a
 * browser asks for when it gets the 401's `WWW-Authenticate: Basic` challenge.
 *
 * Read-only: PostgreSQL's job row, not the BullMQ job, is the truth about a job, so a retry,
 * removal or clean done behind the API's back would leave the two disagreeing. Cancel and
 * retry go through `POST /jobs/:id/cancel|retry`.
 */
export async function adminPlugin(app: FastifyInstance, { adminKey, queue }: AdminPluginOptions) {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: 'admin' };
  });
  app.addHook('onRequest', async (request, reply) => {
    if (presentsKey(request.headers.authorization, adminKey)) return;
    // Answered here rather than thrown: bull-board's routes have an error handler of their own.
    return reply
      .status(401)
      .header('www-authenticate', ['Bearer realm="sluice-admin"', 'Basic realm="sluice-admin", charset="UTF-8"'])
      .send(
        errorBody(
          'unauthorized',
          'the queue dashboard needs the admin key: Authorization: Bearer <ADMIN_KEY>, or it as the basic-auth password',
        ),
      );
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PREFIX);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: true })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Sluice queues' } },
  });
  await app.register(serverAdapter.registerPlugin());
}
