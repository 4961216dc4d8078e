import { AppError } from '@sluice/errors';
import { jsonRow, type JsonLimits } from './parse-ndjson.js';
import type { RowChunk, SourceRow, StepContext } from './rows.js';

const enum Mode {
  Before,
  First,
  Next,
  Inside,
  After,
  Done,
}

const QUOTE = 34;
const BACKSLASH = 92;
const LF = 10;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function parseError(message: string, line: number): AppError {
  return new AppError('parse_error', `${message} at line ${line}`, { details: { line } });
}

/**
 * Finds the elements of a top-level JSON array as they stream past.
 *
 * Design: the scanner follows only what delimits elements (strings, brackets, commas at depth
 * one), hands each element's text to the native `JSON.parse`, and keeps just the element in
 * progress between chunks. So memory is bounded by the largest element, each element knows
 * the lines it spans, and an element that is not valid JSON is one rejected row while a file
 * that is cut off or is not an array fails with the line where it broke.
 */
class JsonArrayScanner {
  private buf = '';
  private pos = 0;
  private mode = Mode.Before;
  private line = 1;
  private depth = 0;
  private inString = false;
  private elementLine = 1;
  private row = 0;
  private readonly maxChars: number;
  private readonly maxDepth: number;

  constructor(limits: JsonLimits) {
    this.maxChars = limits.maxRecordChars ?? 16 * 1024 * 1024;
    this.maxDepth = limits.maxDepth ?? Number.MAX_SAFE_INTEGER;
  }

  push(chunk: string, out: SourceRow[]): void {
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    this.scan(out);
    if (this.mode === Mode.Inside) {
      if (this.buf.length > this.maxChars) {
        throw new AppError('parse_error', `the element starting at line ${this.elementLine} is longer than ${this.maxChars} characters (MAX_LINE_CHARS)`, {
          details: { line: this.elementLine },
        });
      }
      return;
    }
    this.buf = '';
    this.pos = 0;
  }

  end(out: SourceRow[]): void {
    if (this.mode === Mode.Inside && this.depth === 0 && !this.inString) this.emit(this.buf.length, out);
    switch (this.mode) {
      case Mode.Done:
        return;
      case Mode.Before:
        throw parseError('expected a JSON array, the file is empty', this.line);
      default:
        throw parseError('the file ends before the JSON array is closed', this.line);
    }
  }

  private emit(end: number, out: SourceRow[]): void {
    const raw = this.buf.slice(0, end);
    out.push(jsonRow(raw, ++this.row, this.elementLine, this.line, this.maxDepth));
    this.buf = this.buf.slice(end);
    this.pos = 0;
    this.mode = Mode.After;
  }

  private scan(out: SourceRow[]): void {
    let s = this.buf;
    let i = this.pos;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (this.mode === Mode.Inside) {
        if (this.inString) {
          const q = s.indexOf('"', i);
          if (q === -1) {
            i = s.length;
            break;
          }
          let k = q - 1;
          while (s.charCodeAt(k) === BACKSLASH) k--;
          i = q + 1;
          if ((q - 1 - k) % 2 === 0) {
            this.inString = false;
            if (this.depth === 0) {
              this.emit(i, out);
              s = this.buf;
              i = 0;
            }
          }
          continue;
        }
        if (c === QUOTE) this.inString = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          if (this.depth === 0) {
            this.emit(i, out);
            s = this.buf;
            i = 0;
            continue;
          }
          if (--this.depth === 0) {
            this.emit(i + 1, out);
            s = this.buf;
            i = 0;
            continue;
          }
        } else if (this.depth === 0 && (c === 44 || isSpace(c))) {
          this.emit(i, out);
          s = this.buf;
          i = 0;
          continue;
        } else if (c === LF) this.line++;
        i++;
        continue;
      }
      if (isSpace(c)) {
        if (c === LF) this.line++;
        i++;
        continue;
      }
      switch (this.mode) {
        case Mode.Before:
          if (c !== 91) throw parseError('expected a JSON array ("[")', this.line);
          this.mode = Mode.First;
          i++;
          break;
        case Mode.First:
        case Mode.Next:
          if (c === 93 && this.mode === Mode.First) {
            this.mode = Mode.Done;
            i++;
            break;
          }
          if (c === 93 || c === 44) throw parseError('expected a value', this.line);
          s = this.buf = s.slice(i);
          i = 0;
          this.mode = Mode.Inside;
          this.depth = 0;
          this.elementLine = this.line;
          break;
        case Mode.After:
          if (c === 44) this.mode = Mode.Next;
          else if (c === 93) this.mode = Mode.Done;
          else throw parseError('expected "," or "]"', this.line);
          i++;
          break;
        case Mode.Done:
          throw parseError('unexpected text after the JSON array', this.line);
      }
    }
    this.pos = i;
  }
}

/** JSON array text → rows, one per element. */
export async function* parseJsonArray(text: AsyncIterable<string>, limits: JsonLimits = {}, ctx: StepContext = {}): AsyncGenerator<RowChunk> {
  const scanner = new JsonArrayScanner(limits);
  // Elements the scanner found before it threw still come out, then the error.
  function* scanned(scan: (rows: SourceRow[]) => void): Generator<RowChunk> {
    const rows: SourceRow[] = [];
    let failure: { error: unknown } | undefined;
    try {
      scan(rows);
    } catch (error) {
      failure = { error };
    }
    if (rows.length > 0) yield { columns: null, rows };
    if (failure !== undefined) throw failure.error;
  }

  for await (const chunk of text) {
    ctx.signal?.throwIfAborted();
    yield* scanned((rows) => scanner.push(chunk, rows));
  }
  yield* scanned((rows) => scanner.end(rows));
}
