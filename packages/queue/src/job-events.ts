import { QueueEvents } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { INGEST_QUEUE } from './ingest-queue.js';

// Every event BullMQ publishes about a job's life; any of them may mean its row changed.
const JOB_EVENTS = [
  'added',
  'waiting',
  'active',
  'progress',
  'completed',
  'failed',
  'delayed',
  'removed',
  'stalled',
  'retries-exhausted',
] as const;

/**
 * Tells watchers of an ingestion job that something happened to it, so they read its row
 * again: one reader of BullMQ's event stream per process (a `QueueEvents` on a connection of
 * its own, as its blocking reads need), fanned out in memory to however many watch.
 *
 * Design: the events are hints, never the state. Watchers read the job row in PostgreSQL on
 * each one, so a duplicated or reordered event costs a read and nothing else; events missed
 * while Redis was away are caught by the watcher's own periodic recheck.
 */
export class JobEvents {
  private readonly events: QueueEvents;
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(connection: RedisOptions, prefix: string, onError: (error: Error) => void) {
    this.events = new QueueEvents(INGEST_QUEUE, {
      connection: { ...connection, maxRetriesPerRequest: null, enableOfflineQueue: true },
      prefix,
    });
    this.events.on('error', onError);
    for (const event of JOB_EVENTS) {
      this.events.on(event, (args: { jobId?: string }) => {
        if (args.jobId !== undefined) this.notify(args.jobId);
      });
    }
  }

  /** Resolves once the stream is being read, so no later event is missed. */
  async ready(): Promise<void> {
    await this.events.waitUntilReady();
  }

  /** Calls `onEvent` on each event about `jobId` until the returned function is called. */
  watch(jobId: string, onEvent: () => void): () => void {
    let set = this.watchers.get(jobId);
    if (set === undefined) this.watchers.set(jobId, (set = new Set()));
    set.add(onEvent);
    return () => {
      set.delete(onEvent);
      if (set.size === 0 && this.watchers.get(jobId) === set) this.watchers.delete(jobId);
    };
  }

  async close(): Promise<void> {
    this.watchers.clear();
    await this.events.close();
  }

  private notify(jobId: string): void {
    for (const onEvent of this.watchers.get(jobId) ?? []) onEvent();
  }
}
