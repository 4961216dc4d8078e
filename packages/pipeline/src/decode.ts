import type { Encoding } from './read-options.js';
import type { StepContext } from './rows.js';

/** How a file's bytes were read: its encoding, and whether a byte-order mark said so. */
export interface DecodeDecision {
  encoding: Encoding;
  bom: boolean;
  /** `declared` when the upload named it, `bom` or `detected` from the bytes. */
  by: 'declared' | 'bom' | 'detected';
}

const SAMPLE_BYTES = 64 * 1024;

function bomOf(b: Uint8Array): { encoding: Encoding; length: number } | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/**
 * Guesses the encoding of a sample without a BOM: text that is valid UTF-8 is UTF-8; NUL
 * bytes on every other position are UTF-16 without a mark; anything else is Windows-1252,
 * the superset of ISO-8859-1 that Excel and most Western ERP exports write.
 */
export function detectEncoding(sample: Uint8Array, complete: boolean): DecodeDecision {
  const bom = bomOf(sample);
  if (bom !== undefined) return { encoding: bom.encoding, bom: true, by: 'bom' };
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] === 0) {
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    }
  }
  const half = sample.length / 2;
  if (half >= 2 && oddNul > half * 0.3 && evenNul === 0) return { encoding: 'utf-16le', bom: false, by: 'detected' };
  if (half >= 2 && evenNul > half * 0.3 && oddNul === 0) return { encoding: 'utf-16be', bom: false, by: 'detected' };
  try {
    // A sample cut inside a multi-byte sequence is still UTF-8: `stream` lets the tail wait.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
    return { encoding: 'utf-8', bom: false, by: 'detected' };
  } catch {
    return { encoding: 'windows-1252', bom: false, by: 'detected' };
  }
}

/** A streaming decoder for an encoding; ISO-8859-1 is decoded as itself (each byte its code point), not as Windows-1252. */
function decoderFor(encoding: Encoding): (chunk: Uint8Array | undefined) => string {
  if (encoding === 'iso-8859-1')
    return (chunk) => (chunk === undefined ? '' : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'));
  // ignoreBOM: false drops a BOM of this encoding at the start, and only there.
  const decoder = new TextDecoder(encoding, { ignoreBOM: false });
  return (chunk) => (chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true }));
}

/**
 * Step: bytes → text, in the encoding declared or detected from the first 64 KB. Decoding
 * streams: only the sample is held (nothing, when the encoding is declared). A byte sequence that is not valid in the encoding
 * becomes U+FFFD, so the row it is in fails validation rather than the whole file.
 * `onDecided` hears the decision before the first text comes out.
 */
export async function* decodeText(
  chunks: AsyncIterable<Uint8Array>,
  options: { encoding?: Encoding | undefined; onDecided?: (decision: DecodeDecision) => void | Promise<void> } = {},
  ctx: StepContext = {},
): AsyncGenerator<string> {
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let decode: ((chunk: Uint8Array | undefined) => string) | undefined;

  const decide = async (complete: boolean) => {
    const sample = held.length === 1 ? held[0]! : Buffer.concat(held);
    const bom = bomOf(sample);
    const decision: DecodeDecision =
      options.encoding !== undefined
        ? { encoding: options.encoding, bom: bom?.encoding === options.encoding, by: 'declared' }
        : detectEncoding(sample.subarray(0, SAMPLE_BYTES), complete);
    await options.onDecided?.(decision);
    decode = decoderFor(decision.encoding);
    held.length = 0;
    return decode(sample);
  };

  for await (const chunk of chunks) {
    ctx.signal?.throwIfAborted();
    let text: string;
    if (decode === undefined) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < SAMPLE_BYTES && options.encoding === undefined) continue;
      text = await decide(false);
    } else {
      text = decode(chunk);
    }
    if (text.length > 0) yield text;
  }
  if (decode === undefined) {
    const text = await decide(true);
    if (text.length > 0) yield text;
  }
  const rest = decode!(undefined);
  if (rest.length > 0) yield rest;
}

/** Step: UTF-8 bytes → text, dropping a BOM (see {@link decodeText}, which also detects). */
export async function* decodeUtf8(chunks: AsyncIterable<Uint8Array>, ctx: StepContext = {}): AsyncGenerator<string> {
  yield* decodeText(chunks, { encoding: 'utf-8' }, ctx);
}
