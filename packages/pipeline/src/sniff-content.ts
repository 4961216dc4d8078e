import type { Format } from './formats.js';
import type { Encoding } from './read-options.js';

/** What the first bytes of an upload are, and why it is refused when it is. */
export interface ContentSniff {
  kind: 'gzip' | 'zip' | 'text' | 'binary';
  /** Set when the upload must be refused: what the bytes are and why that is not accepted. */
  refused?: string;
}

const SIGNATURES: Array<{ name: string; bytes: number[] }> = [
  { name: 'a PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: 'a PDF document', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { name: 'an ELF executable', bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { name: 'a JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'a GIF image', bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: 'a 7-Zip archive', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'a RAR archive', bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
  { name: 'a legacy Office (OLE) file', bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const GZIP = [0x1f, 0x8b];

const startsWith = (head: Uint8Array, bytes: number[]) => bytes.every((b, i) => head[i] === b);

/** How many bytes {@link sniffContent} wants to see (fewer only when the file is shorter). */
export const SNIFF_BYTES = 4096;

/**
 * Judges an upload by its first bytes, whatever its name or content type says (OWASP File
 * Upload): gzip passes (it is unpacked and judged again by the worker); a ZIP passes only
 * as `.xlsx`, and an `.xlsx` must be a ZIP; other known binary formats, and NUL bytes in
 * what should be text, are refused — except the NULs of UTF-16 text with a BOM or a
 * declared UTF-16 encoding.
 */
export function sniffContent(head: Uint8Array, upload: { format: Format; encoding?: Encoding | undefined }): ContentSniff {
  if (startsWith(head, GZIP)) return { kind: 'gzip' };
  if (startsWith(head, ZIP)) {
    return upload.format === 'xlsx'
      ? { kind: 'zip' }
      : { kind: 'zip', refused: `the file is a ZIP archive, which Sluice reads only as .xlsx` };
  }
  if (upload.format === 'xlsx') return { kind: 'binary', refused: 'an .xlsx workbook is a ZIP archive, and this file is not one' };
  for (const s of SIGNATURES)
    if (startsWith(head, s.bytes) && s.bytes.length <= head.length)
      return { kind: 'binary', refused: `the file is ${s.name}, not ${upload.format} text` };
  const utf16 =
    (head[0] === 0xff && head[1] === 0xfe) ||
    (head[0] === 0xfe && head[1] === 0xff) ||
    upload.encoding === 'utf-16le' ||
    upload.encoding === 'utf-16be';
  if (!utf16 && head.includes(0))
    return {
      kind: 'binary',
      refused: `the file has NUL bytes, so it is not ${upload.format} text (UTF-16 needs a byte-order mark or encoding=utf-16le)`,
    };
  return { kind: 'text' };
}
