import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** A key's count in one window, as this process knows it. */
interface Counter {
  /** Which fixed window (epoch-aligned, `windowMs` long) the count is for. */
  window: number;
  windowMs: number;
  /** Every process's count, as Redis last answered it. */
  shared: number;
  /** This process's requests on their way to Redis. */
  sending: number;
  /** This process's requests Redis has not heard of yet. */
  pending: number;
}

export interface SharedCountersOptions {
  /** Prefix of the Redis keys. */
  prefix: string;
  /** How often a process adds its counts to Redis (and learns the others'). */
  syncMs: number;
  /** Hears the first failure to reach Redis after a success. */
  onError: (error: Error) => void;
}

/**
 * Request counts per key and fixed window, shared by every API process through Redis
 * without a Redis round trip per request: each process counts locally and every `syncMs`
 * adds what it counted to Redis in one pipeline (`INCRBY`), whose answers bring back the
 * other processes' counts. A process alone is exact; several may together admit up to
 * `syncMs` of each one's traffic past the limit before they hear of each other, a fair
 * price for a limit that guards against abuse, not for billing. While Redis is away, each
 * process keeps counting on its own and sends its counts once Redis is back.
 */
export class SharedCounters {
  private readonly counters = new Map<string, Counter>();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: SharedCountersOptions,
  ) {}

  /** Counts one request of `key`: the window's count so far, this one included, and the ms left in the window. */
  hit(key: string, windowMs: number): { current: number; ttl: number } {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    let counter = this.counters.get(key);
    if (counter === undefined || counter.window !== window || counter.windowMs !== windowMs) {
      counter = { window, windowMs, shared: 0, sending: 0, pending: 0 };
      this.counters.set(key, counter);
    }
    counter.pending++;
    this.schedule();
    return { current: counter.shared + counter.sending + counter.pending, ttl: (window + 1) * windowMs - now };
  }

  /** Sends every pending count to Redis and takes in the totals; forgets windows that are over. */
  async sync(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    const sent: Counter[] = [];
    const pipeline = this.redis.pipeline();
    for (const [key, counter] of this.counters) {
      if (counter.pending === 0 || counter.sending > 0) {
        if (counter.sending === 0 && (counter.window + 1) * counter.windowMs <= now) this.counters.delete(key);
        continue;
      }
      const redisKey = `${this.options.prefix}${key}:${counter.window}`;
      // The key outlives its window a little, so a late process still adds to the right total.
      pipeline.incrby(redisKey, counter.pending).pexpire(redisKey, (counter.window + 2) * counter.windowMs - now);
      counter.sending = counter.pending;
      counter.pending = 0;
      sent.push(counter);
    }
    if (sent.length === 0) return;
    let results: Array<[Error | null, unknown]> | null = null;
    let failure: Error | undefined;
    try {
      results = await pipeline.exec();
    } catch (error) {
      failure = error as Error;
    }
    sent.forEach((counter, i) => {
      const [error, total] = results?.[i * 2] ?? [failure ?? new Error('redis gave no answer'), null];
      if (error === null) counter.shared = Number(total);
      else {
        failure ??= error;
        counter.pending += counter.sending;
      }
      counter.sending = 0;
    });
    if (failure === undefined) this.failing = false;
    else if (!this.failing) {
      this.failing = true;
      this.options.onError(failure);
    }
    if (sent.some((counter) => counter.pending > 0)) this.schedule();
  }

  /** A sync `syncMs` from now, unless one is due already. */
  private schedule(): void {
    if (this.timer === undefined && !this.closed) this.timer = setTimeout(() => void this.sync(), this.options.syncMs).unref();
  }

  /** Stops syncing; what was not sent yet stays uncounted by the others. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The store class for @fastify/rate-limit's `store` option, counting through these
   * counters. Route-level limits get a child whose keys carry the route.
   */
  rateLimitStore(): FastifyRateLimitStoreCtor {
    const hit = (key: string, windowMs: number) => this.hit(key, windowMs);
    return class SharedCountersStore implements FastifyRateLimitStore {
      // The plugin constructs the store with its options, which counting does not need.
      constructor(_options?: unknown, private readonly scope = '') {}

      incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
        callback(null, hit(`${this.scope}${key}`, timeWindow));
      }

      // A route with limits of its own counts apart. (The plugin passes its route as
      // `routeInfo`, which its type declarations do not say.)
      child(routeOptions: unknown): FastifyRateLimitStore {
        const route = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo;
        return new SharedCountersStore(undefined, `${this.scope}${String(route?.method)} ${String(route?.url)}:`);
      }
    };
  }
}
