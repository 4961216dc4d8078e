import { createHash, hash } from 'node:crypto';

/** SHA-256 of a string's UTF-8 bytes, as lowercase hex. */
export const sha256Hex: (text: string) => string =
  typeof hash === 'function'
    ? (text) => hash('sha256', text, 'hex')
    : (text) => createHash('sha256').update(text).digest('hex');
