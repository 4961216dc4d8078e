import { AppError } from '@sluice/errors';
import { createGunzip } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import type { StepContext } from './rows.js';
import { SNIFF_BYTES } from './sniff-content.js';

/** Splits a byte stream into its first bytes (up to `SNIFF_BYTES`) and the whole stream, head included. */
export async function peekBytes(chunks: AsyncIterable<Uint8Array>): Promise<{ head: Uint8Array; bytes: AsyncGenerator<Uint8Array> }> {
  const it = chunks[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < SNIFF_BYTES) {
    const next = await it.next();
    if (next.done === true) {
      done = true;
      break;
    }
    held.push(next.value);
    size += next.value.length;
  }
  const head = Buffer.concat(held).subarray(0, SNIFF_BYTES);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield* held;
    if (done) return;
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value;
  }
  return { head, bytes: bytes() };
}

/**
 * Step: gzip bytes → the bytes they hold, streaming. Past `maxBytes` of output (a gzip bomb)
 * it stops with `limit_exceeded`: memory holds one chunk, and nothing is written to disk.
 */
export async function* gunzipCapped(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
  ctx: StepContext = {},
): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  // A failure of the source destroys the gunzip stream with it, so the loop below sees it.
  pipeline(Readable.from(chunks), gunzip, () => undefined);
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      ctx.signal?.throwIfAborted();
      total += chunk.length;
      if (total > maxBytes) {
        throw new AppError('limit_exceeded', `the file unpacks to more than ${maxBytes} bytes (MAX_DECOMPRESSED_BYTES); stopped there`, {
          details: { line: null, maxDecompressedBytes: maxBytes },
        });
      }
      yield chunk;
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('Z_')) throw error;
    throw new AppError('parse_error', `the file is not valid gzip: ${(error as Error).message}`, { details: { line: null }, cause: error });
  } finally {
    gunzip.destroy();
  }
}
