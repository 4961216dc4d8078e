import { createServer, type IncomingHttpHeaders } from 'node:http';

/** One request the mock API received. */
export interface MockRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  at: number;
}

/** How the mock answers one request. */
export interface MockReply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string. */
  body?: unknown;
  /** Waits this long before answering (to make a client time out). */
  delayMs?: number;
}

export interface MockApi {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: MockRequest[];
  close(): Promise<void>;
}

/**
 * A REST API on a loopback port that answers with whatever `handler` says, written to
 * misbehave on purpose in the tests (errors, throttling, loops, silence). It records every
 * request; `close` drops open connections, so a delayed answer never outlives the test.
 */
export async function startMockApi(handler: (request: MockRequest, count: number) => MockReply | Promise<MockReply>): Promise<MockApi> {
  const requests: MockRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const request: MockRequest = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      headers: req.headers,
      at: Date.now(),
    };
    requests.push(request);
    req.resume();
    void Promise.resolve(handler(request, requests.length)).then((reply) => {
      const send = () => {
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? null);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(text);
      };
      if (reply.delayMs === undefined) send();
      else {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) send();
        }, reply.delayMs);
        timers.add(timer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('mock API has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
