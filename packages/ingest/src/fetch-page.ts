import { AppError } from '@sluice/errors';

/** How a pull fetches: per-request timeout, attempts per page, and the first backoff. */
export interface FetchSettings {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
}

export interface PageRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface PageResponse {
  url: string;
  headers: Headers;
  /** The response body as text, and parsed. */
  text: string;
  json: unknown;
}

/** A `Retry-After` longer than this fails the run rather than parking a worker on it. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Where a request went, for messages: no query string (it may carry tokens). */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** Milliseconds a `Retry-After` header asks for (delta seconds or an HTTP date), if it is readable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

type Attempt = { ok: true; response: PageResponse } | { ok: false; retry: boolean; reason: string; waitMs?: number };

async function attempt(request: PageRequest, settings: FetchSettings, signal: AbortSignal): Promise<Attempt> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'follow',
      signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
    });
    text = await res.text();
  } catch (error) {
    if (signal.aborted) throw error;
    const e = error as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { ok: false, retry: true, reason: `no answer within ${settings.timeoutMs} ms` };
    return { ok: false, retry: true, reason: `request failed (${e.cause?.code ?? e.message})` };
  }
  if (res.status === 429 || res.status >= 500) {
    const waitMs = retryAfterMs(res.headers.get('retry-after'));
    return { ok: false, retry: true, reason: `HTTP ${res.status}`, ...(waitMs === undefined ? {} : { waitMs }) };
  }
  if (res.status >= 400) return { ok: false, retry: false, reason: `HTTP ${res.status}` };
  let json: unknown;
  try {
    json = text.trim().length === 0 ? null : JSON.parse(text);
  } catch {
    return { ok: false, retry: false, reason: `the response is not JSON (content-type ${res.headers.get('content-type') ?? 'none'})` };
  }
  return { ok: true, response: { url: res.url || request.url, headers: res.headers, text, json } };
}

/**
 * Fetches one page of a source, retrying what can pass: 429 and 5xx answers, timeouts and
 * network errors, with exponential backoff and jitter, or after the server's `Retry-After`
 * when it sends one. After the last attempt, or on an answer no retry can change (another
 * 4xx, a body that is not JSON), it throws `source_failed` naming the page.
 */
export async function fetchPage(request: PageRequest, settings: FetchSettings, page: number, signal: AbortSignal): Promise<PageResponse> {
  const where = `page ${page} (${describeUrl(request.url)})`;
  for (let n = 1; ; n++) {
    const result = await attempt(request, settings, signal);
    if (result.ok) return result.response;
    if (!result.retry) throw new AppError('source_failed', `${where}: ${result.reason}`, { details: { page } });
    if (n >= settings.attempts) {
      throw new AppError('source_failed', `${where}: ${result.reason}, after ${n} attempt${n === 1 ? '' : 's'}`, { details: { page } });
    }
    if (result.waitMs !== undefined && result.waitMs > MAX_RETRY_AFTER_MS) {
      throw new AppError(
        'source_failed',
        `${where}: ${result.reason}, Retry-After ${Math.round(result.waitMs / 1000)} s is longer than Sluice waits`,
        {
          details: { page },
        },
      );
    }
    const backoff = settings.backoffMs * 2 ** (n - 1);
    await sleep(result.waitMs ?? backoff / 2 + Math.random() * (backoff / 2), signal);
  }
}
