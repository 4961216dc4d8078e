import type { Readable } from 'node:stream';

/** What a completed write measured while the bytes streamed past. */
export interface StoredObject {
  key: string;
  sizeBytes: number;
  sha256: string;
}

/** Where uploaded files live between the API and the worker. */
export interface Storage {
  /**
   * Streams `body` to `key`. Resolves once every byte is durable; on any error (the body
   * failed, a limit tripped, the disk is full) nothing is left under `key`.
   */
  write(key: string, body: Readable): Promise<StoredObject>;
  /** Streams the object back; rejects with `not_found` if it is not there. */
  read(key: string): Promise<Readable>;
  /** Removes the object; removing one that is not there is not an error. */
  remove(key: string): Promise<void>;
  /**
   * Resolves when a write could succeed now, and rejects saying why not: what `GET /ready`
   * asks. It writes nothing and changes nothing a later write would not. `signal` gives up
   * on a check that takes too long.
   */
  check(signal?: AbortSignal): Promise<void>;
}
