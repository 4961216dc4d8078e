import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { DB } from './schema.js';
import { authenticateApiKey } from './tenants.repository.js';

export type KeyOwner = { keyId: string; tenantId: string };

const CHANNEL = 'sluice_api_keys';

/**
 * What API key hashes resolve to, kept in memory so that a request does not cost a database
 * round trip to authenticate.
 *
 * Design: the cache is only trusted while it listens. One pooled connection LISTENs on
 * `sluice_api_keys`, where a trigger announces every revoked or removed key when its
 * transaction commits (migration 0006); the announced hash is dropped at once. While that
 * connection is down (not yet up, lost, PostgreSQL restarting), the cache is empty and every
 * lookup asks the database, so a revocation is never missed, only made slower to honour. An
 * entry also expires after `ttlMs`, which bounds the damage of a notification lost in some
 * way not foreseen here, and keeps `last_used_at` roughly fresh. Unknown keys are not cached:
 * a key created a moment ago works on its first request.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { owner: KeyOwner; expires: number }>();
  private listener: pg.PoolClient | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Moves on every revocation heard, so a lookup that raced one does not cache its answer. */
  private generation = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly pool: pg.Pool,
    private readonly options: { ttlMs: number; maxEntries: number; onError?: (error: Error) => void },
  ) {}

  /** Starts listening for revocations; resolves once listening (or once it has failed, to retry later). */
  async start(): Promise<void> {
    if (this.closed || this.listener !== undefined) return;
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const c = client;
      c.on('notification', (message) => {
        if (message.channel !== CHANNEL || message.payload === undefined) return;
        this.generation++;
        this.entries.delete(message.payload);
      });
      c.on('error', (error) => this.lost(c, error));
      c.on('end', () => this.lost(c, new Error('the connection listening for key revocations ended')));
      await c.query(`LISTEN ${CHANNEL}`);
      this.listener = c;
    } catch (error) {
      client?.release(true);
      this.options.onError?.(error as Error);
      this.retryLater();
    }
  }

  /** The live key whose SHA-256 is `hash`, or undefined; from memory when it may be trusted. */
  async lookup(hash: Buffer): Promise<KeyOwner | undefined> {
    const hex = hash.toString('hex');
    const now = performance.now();
    const hit = this.entries.get(hex);
    if (hit !== undefined && hit.expires > now) return hit.owner;
    const generation = this.generation;
    const owner = await authenticateApiKey(this.db, hash);
    if (owner === undefined || this.listener === undefined || generation !== this.generation) {
      this.entries.delete(hex);
      return owner;
    }
    if (this.entries.size >= this.options.maxEntries) this.entries.clear();
    this.entries.set(hex, { owner, expires: now + this.options.ttlMs });
    return owner;
  }

  /** Forgets every entry: for this process's own revocations, which need not wait for the notification. */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.entries.clear();
    const listener = this.listener;
    this.listener = undefined;
    if (listener !== undefined) {
      await listener.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
      listener.release();
    }
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.generation++;
    this.entries.clear();
    client.release(true);
    if (this.closed) return;
    this.options.onError?.(error);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => void this.start(), 1_000);
    this.retry.unref();
  }
}
