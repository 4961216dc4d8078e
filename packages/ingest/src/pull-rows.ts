import type { SourceHeader } from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { RowChunk, SourceRow } from '@sluice/pipeline';
import { createHash } from 'node:crypto';
import { describeUrl, fetchPage, type FetchSettings, type PageResponse } from './fetch-page.js';
import { atPath, type Incremental, type Pagination } from './source-spec.js';

/** What a pull run reads of its source. */
export interface PullSpec {
  url: string;
  method: string;
  headers: SourceHeader[];
  body: unknown;
  itemsPath: string | null;
  pagination: Pagination;
  maxPages: number;
  incremental: Incremental | null;
  /** The incremental cursor of the last completed run, sent as `incremental.param`. */
  since: string | number | null;
}

/** What a run learned while it read, for its completion. */
export interface PullProgress {
  pages: number;
  items: number;
  /** The highest incremental value seen so far (the source's next state). */
  highest: string | number | null;
  /** The run stopped at `maxPages` while the source had more. */
  capped: boolean;
}

/** Orders incremental values: numbers as numbers, timestamps as instants, anything else as text. */
export function compareCursor(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const ta = typeof a === 'string' ? Date.parse(a) : Number.NaN;
  const tb = typeof b === 'string' ? Date.parse(b) : Number.NaN;
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** The URL of `rel="next"` in a Link header, resolved against the page's URL. */
export function nextLink(header: string | null, base: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m !== null && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2]!)) return new URL(m[1]!, base).toString();
  }
  return undefined;
}

function itemsOf(response: PageResponse, itemsPath: string | null, page: number): unknown[] {
  const items = itemsPath === null ? response.json : atPath(response.json, itemsPath);
  if (Array.isArray(items)) return items;
  const where = `page ${page} (${describeUrl(response.url)})`;
  if (itemsPath === null)
    throw new AppError('source_failed', `${where}: the response is not an array; set itemsPath to where its items are`);
  throw new AppError('source_failed', `${where}: no array of items at "${itemsPath}"`);
}

const loop = (page: number, what: string) =>
  new AppError('source_failed', `pagination loop: page ${page} ${what}; the run stops instead of ingesting forever`, { details: { page } });

/**
 * Reads a source page by page and yields each page's items as rows for the row pipeline
 * (numbered on across pages). Pagination follows the source's type; a run ends on an empty
 * or short page, a missing next cursor or link, or `maxPages`. The same cursor, the same
 * next URL or the same page body twice in a row is a pagination loop and fails the run.
 */
export async function* pullRows(
  spec: PullSpec,
  settings: FetchSettings,
  progress: PullProgress,
  signal: AbortSignal,
): AsyncGenerator<RowChunk> {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const h of spec.headers) headers[h.name] = h.value;
  let body: string | undefined;
  if (spec.body !== null && spec.body !== undefined && spec.method !== 'GET') {
    body = JSON.stringify(spec.body);
    headers['content-type'] ??= 'application/json';
  }
  const p = spec.pagination;
  const withParams = (params: Record<string, string | number | undefined>) => {
    const url = new URL(spec.url);
    if (spec.incremental !== null && spec.since !== null) url.searchParams.set(spec.incremental.param, String(spec.since));
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  };

  const seenCursors = new Set<string>();
  const seenUrls = new Set<string>();
  let previousBody: string | undefined;
  let row = 0;
  let url: string | undefined =
    p.type === 'page'
      ? withParams({ [p.param]: p.start, ...(p.sizeParam !== undefined ? { [p.sizeParam]: p.size } : {}) })
      : p.type === 'offset'
        ? withParams({ [p.param]: 0, [p.limitParam]: p.limit })
        : withParams({});
  let offset = 0;

  for (let page = 1; url !== undefined; page++) {
    if (page > spec.maxPages) {
      progress.capped = true;
      return;
    }
    seenUrls.add(url);
    const response = await fetchPage({ url, method: spec.method, headers, body }, settings, page, signal);
    const items = itemsOf(response, spec.itemsPath, page);
    progress.pages = page;
    if (items.length > 0) {
      const digest = createHash('sha256').update(response.text).digest('hex');
      if (digest === previousBody) throw loop(page, 'is the same as the page before it');
      previousBody = digest;
    }

    const rows: SourceRow[] = [];
    for (const item of items) {
      row++;
      const raw = JSON.stringify(item) ?? 'null';
      const source: SourceRow = { row, line: null, lineEnd: null, raw, cells: null, values: null };
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
        source.values = item as Record<string, unknown>;
        if (spec.incremental !== null) {
          const v = atPath(item, spec.incremental.field);
          if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))) {
            if (progress.highest === null || compareCursor(v, progress.highest) > 0) progress.highest = v;
          }
        }
      } else {
        source.problem = `is ${item === null ? 'null' : Array.isArray(item) ? 'an array' : `a ${typeof item}`}, expected a JSON object`;
      }
      rows.push(source);
    }
    progress.items += items.length;
    if (rows.length > 0) yield { columns: null, rows };

    switch (p.type) {
      case 'none':
        url = undefined;
        break;
      case 'page':
        url =
          items.length === 0 || (p.size !== undefined && items.length < p.size)
            ? undefined
            : withParams({ [p.param]: p.start + page, ...(p.sizeParam !== undefined ? { [p.sizeParam]: p.size } : {}) });
        break;
      case 'offset':
        offset += items.length;
        url = items.length < p.limit ? undefined : withParams({ [p.param]: offset, [p.limitParam]: p.limit });
        break;
      case 'cursor': {
        const next = atPath(response.json, p.cursorPath);
        if (next === undefined || next === null || next === '') url = undefined;
        else {
          const cursor = typeof next === 'string' ? next : JSON.stringify(next);
          if (seenCursors.has(cursor)) throw loop(page, `returned the cursor "${cursor.slice(0, 100)}" again`);
          seenCursors.add(cursor);
          url = withParams({ [p.param]: cursor });
        }
        break;
      }
      case 'linkHeader':
      case 'nextUrl': {
        const next = p.type === 'linkHeader' ? nextLink(response.headers.get('link'), response.url) : atPath(response.json, p.path);
        if (typeof next !== 'string' || next === '') url = undefined;
        else {
          const resolved = new URL(next, response.url).toString();
          if (seenUrls.has(resolved)) throw loop(page, `points to ${describeUrl(resolved)} again`);
          url = resolved;
        }
        break;
      }
    }
  }
}
