// A Server-Sent Events client for tests: reads a real HTTP stream as it arrives.
import http from 'node:http';

export type SseItem =
  | { kind: 'event'; id: string | undefined; event: string; data: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; ms: number };

export interface SseStream {
  status: number;
  headers: Headers;
  /** The next event, comment or retry hint; `null` once the server closed the stream. Fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseItem | null>;
  /** The next event (comments and hints skipped); `null` once the stream closed. */
  nextEvent(timeoutMs?: number): Promise<Extract<SseItem, { kind: 'event' }> | null>;
  /** Hangs up, as a client that goes away. */
  abort(): void;
}

function parseBlock(block: string): SseItem[] {
  const items: SseItem[] = [];
  let event: string | undefined;
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) items.push({ kind: 'comment', text: line.slice(1).trim() });
    else if (line.startsWith('retry: ')) items.push({ kind: 'retry', ms: Number(line.slice(7)) });
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
    else if (line !== '') throw new Error(`unexpected SSE line: ${line}`);
  }
  if (event !== undefined || data.length > 0) items.push({ kind: 'event', id, event: event ?? 'message', data: data.join('\n') });
  return items;
}

/**
 * Opens `url` as an event stream, on a connection of its own (node:http, no pooling), so a
 * hang-up closes exactly that connection. A non-2xx answer is returned whole in `body`.
 */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<SseStream & { body: string }> {
  const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
  const abort = () => req.destroy();
  if (!(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    let body = '';
    for await (const chunk of res) body += String(chunk);
    return { status: res.statusCode ?? 0, headers: responseHeaders, body, next: async () => null, nextEvent: async () => null, abort };
  }
  res.setEncoding('utf8');
  let buffer = '';
  const queue: SseItem[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      queue.push(...parseBlock(buffer.slice(0, end)));
      buffer = buffer.slice(end + 2);
    }
    wake?.();
  });
  res.on('close', () => {
    closed = true;
    wake?.();
  });

  const next = async (timeoutMs = 15_000): Promise<SseItem | null> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0 && !closed) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          timer = setTimeout(() => reject(new Error(`no SSE item within ${timeoutMs} ms`)), Math.max(deadline - Date.now(), 0));
        });
      } finally {
        wake = undefined;
        clearTimeout(timer);
      }
    }
    return queue.shift() ?? null;
  };
  const nextEvent = async (timeoutMs?: number) => {
    for (;;) {
      const item = await next(timeoutMs);
      if (item === null || item.kind === 'event') return item;
    }
  };
  return { status: res.statusCode ?? 0, headers: responseHeaders, body: '', next, nextEvent, abort };
}
