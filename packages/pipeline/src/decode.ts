import type { StepContext } from './rows.js';

/**
 * Decodes bytes to text as they stream, dropping a UTF-8 BOM. A byte sequence that is not
 * UTF-8 becomes U+FFFD, so the row it is in fails validation rather than the whole file.
 */
export async function* decodeUtf8(chunks: AsyncIterable<Uint8Array>, ctx: StepContext = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  for await (const chunk of chunks) {
    ctx.signal?.throwIfAborted();
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield text;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}
