import { AppError } from '@sluice/errors';

/** One CSV record with the physical lines it spans and its text as it was. */
export interface CsvRecord {
  fields: string[];
  line: number;
  lineEnd: number;
  raw: string;
}

export interface CsvScannerOptions {
  delimiter?: string;
  /** A record longer than this (in characters) fails the file: it is not CSV we can bound. */
  maxRecordChars?: number;
}

const QUOTE = 34; // "
const LF = 10;
const CR = 13;

/**
 * An incremental RFC 4180 scanner that knows where each record is.
 *
 * Design: text arrives in chunks; `push` scans every complete record and keeps the
 * unfinished tail for the next chunk, so memory is bounded by the longest record, not the
 * file. Records without quotes (most of them) take a fast path of native `indexOf` and
 * `split`; records with quotes go through a character scanner. Line numbers count every
 * physical line break (LF, CRLF or a lone CR), inside quoted fields too, so a row's
 * `line`..`lineEnd` is where an editor shows it. Blank lines, and lines of delimiters
 * only, are skipped. A quote that is never closed fails the file with the line it opened on.
 *
 * Leniency where files in the wild break the RFC: a quote inside an unquoted field is a
 * literal character, and text after a closing quote is appended to the field.
 */
export class CsvScanner {
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  private readonly maxRecordChars: number;
  private pending = '';
  /** Line number of the first character of `pending`. */
  private line = 1;
  /** Set once the first line break shows whether the input ends lines with a lone CR. */
  private crOnly: boolean | undefined;

  constructor(options: CsvScannerOptions = {}) {
    this.delimiter = options.delimiter ?? ',';
    if (this.delimiter.length !== 1 || this.delimiter === '"' || this.delimiter === '\n' || this.delimiter === '\r') {
      throw new AppError('bad_request', `delimiter must be one character other than a quote or a line break`);
    }
    this.delimiterCode = this.delimiter.charCodeAt(0);
    this.maxRecordChars = options.maxRecordChars ?? 16 * 1024 * 1024;
  }

  /** Scans `chunk`, appending each complete record to `out`. */
  push(chunk: string, out: CsvRecord[]): void {
    this.pending = this.pending.length === 0 ? chunk : this.pending + chunk;
    this.scan(false, out);
    if (this.pending.length > this.maxRecordChars) {
      throw new AppError('parse_error', `a record starting at line ${this.line} is longer than ${this.maxRecordChars} characters`, {
        details: { line: this.line },
      });
    }
  }

  /** Scans what is left at the end of the input. */
  end(out: CsvRecord[]): void {
    this.scan(true, out);
    this.pending = '';
  }

  private scan(final: boolean, out: CsvRecord[]): void {
    const s = this.pending;
    const n = s.length;
    let i = 0;
    while (i < n) {
      if (this.crOnly === undefined) this.detectLineEnds(s, i, final);
      const next = this.fastRecord(s, i, final, out) ?? this.slowRecord(s, i, final, out);
      if (next < 0) break;
      i = next;
    }
    this.pending = i >= n ? '' : s.slice(i);
  }

  /** Decides the line-end style from the first line break that is not inside quotes. */
  private detectLineEnds(s: string, from: number, final: boolean): void {
    let quotes = 0;
    for (let i = from; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) quotes++;
      else if ((c === CR || c === LF) && quotes % 2 === 0) {
        if (c === LF) this.crOnly = false;
        else if (i + 1 < s.length || final) this.crOnly = s.charCodeAt(i + 1) !== LF;
        return; // a CR ending the chunk: CRLF or not is unknown until the next one
      }
    }
  }

  /**
   * A record with no quote and no stray line break: one native search for its end, one split.
   * Returns the index after the record, -1 when it is incomplete, or undefined to use the
   * character scanner.
   */
  private fastRecord(s: string, start: number, final: boolean, out: CsvRecord[]): number | undefined {
    const n = s.length;
    let end = s.indexOf(this.crOnly === true ? '\r' : '\n', start);
    let next: number;
    if (end === -1) {
      if (!final) return -1;
      end = n;
      next = n;
    } else {
      next = end + 1;
    }
    let contentEnd = end;
    if (this.crOnly !== true && contentEnd > start && s.charCodeAt(contentEnd - 1) === CR) contentEnd--;
    const text = s.slice(start, contentEnd);
    if (text.indexOf('"') !== -1 || text.indexOf(this.crOnly === true ? '\n' : '\r') !== -1) return undefined;
    if (text.length > 0) {
      const fields = text.split(this.delimiter);
      if (!isBlank(fields)) out.push({ fields, line: this.line, lineEnd: this.line, raw: text });
    }
    this.line++;
    return next;
  }

  /** The general case: quoted fields, escaped quotes, line breaks inside quotes. */
  private slowRecord(s: string, start: number, final: boolean, out: CsvRecord[]): number {
    const n = s.length;
    const d = this.delimiterCode;
    const fields: string[] = [];
    let breaks = 0;
    let i = start;
    for (;;) {
      let value = '';
      if (i < n && s.charCodeAt(i) === QUOTE) {
        let segment = i + 1;
        let j = segment;
        for (;;) {
          const q = s.indexOf('"', j);
          if (q === -1 || (q + 1 === n && !final)) {
            if (!final) return -1;
            throw new AppError('parse_error', `unclosed quoted field starting at line ${this.line + breaks}`, {
              details: { line: this.line + breaks },
            });
          }
          if (s.charCodeAt(q + 1) === QUOTE) {
            value += s.slice(segment, q + 1);
            j = segment = q + 2;
            continue;
          }
          value += s.slice(segment, q);
          i = q + 1;
          break;
        }
        breaks += countLineBreaks(value);
      }
      let j = i;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === d || c === LF || c === CR) break;
        j++;
      }
      if (j === n && !final) return -1;
      if (j > i) value += s.slice(i, j);
      fields.push(value);
      i = j;
      if (i === n) break;
      const c = s.charCodeAt(i);
      if (c === d) {
        i++;
        if (i === n) {
          if (!final) return -1;
          fields.push('');
          break;
        }
        continue;
      }
      break;
    }
    const contentEnd = i;
    if (i < n) {
      if (s.charCodeAt(i) === CR) {
        if (i + 1 === n && !final) return -1;
        i += s.charCodeAt(i + 1) === LF ? 2 : 1;
      } else {
        i++;
      }
    }
    if (!isBlank(fields)) {
      out.push({ fields, line: this.line, lineEnd: this.line + breaks, raw: s.slice(start, contentEnd) });
    }
    this.line += breaks + 1;
    return i;
  }
}

function isBlank(fields: string[]): boolean {
  for (const f of fields) if (f.length > 0) return false;
  return true;
}

/** Counts LF, CRLF and lone CR as one break each. */
export function countLineBreaks(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) count++;
    else if (c === CR) {
      count++;
      if (text.charCodeAt(i + 1) === LF) i++;
    }
  }
  return count;
}
