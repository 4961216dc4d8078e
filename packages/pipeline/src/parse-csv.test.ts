import { isAppError } from '@sluice/errors';
import { parseCsv, type CsvParseOptions } from './parse-csv.js';
import type { RowChunk, SourceRow, StepContext } from './rows.js';
import { collect, from } from './steps.testing.js';

/** Runs the step to its end: the chunks it yielded, and the error it ended with, if any. */
const drain = (chunks: readonly string[], options?: CsvParseOptions, ctx?: StepContext): Promise<{ out: RowChunk[]; error: unknown }> =>
  collect(parseCsv(from(chunks), options, ctx));

async function rowsOf(chunks: readonly string[], options?: CsvParseOptions): Promise<SourceRow[]> {
  const { out, error } = await drain(chunks, options);
  if (error !== undefined) throw error;
  return out.flatMap((c) => c.rows);
}

const row = (n: number, line: number, lineEnd: number, raw: string, cells: string[], problem?: string): SourceRow =>
  problem === undefined
    ? { row: n, line, lineEnd, raw, cells, values: null }
    : { row: n, line, lineEnd, raw, cells, values: null, problem };

describe('parseCsv', () => {
  test('the first record is the header; later records are rows numbered from 1', async () => {
    const { out, error } = await drain(['id,name\n1,Ann\n2,Bob\n']);
    expect(error).toBeUndefined();
    expect(out).toStrictEqual([
      {
        columns: ['id', 'name'],
        rows: [row(1, 2, 2, '1,Ann', ['1', 'Ann']), row(2, 3, 3, '2,Bob', ['2', 'Bob'])],
      },
    ]);
  });

  test('header names are trimmed; cells are not', async () => {
    const { out } = await drain([' id ,\tname \n 1 , Ann \n']);
    expect(out).toStrictEqual([{ columns: ['id', 'name'], rows: [row(1, 2, 2, ' 1 , Ann ', [' 1 ', ' Ann '])] }]);
  });

  test('a row with fewer cells than the header is passed on with a problem', async () => {
    expect(await rowsOf(['a,b,c\n1,2\n'])).toStrictEqual([row(1, 2, 2, '1,2', ['1', '2'], 'has 2 columns, the header has 3')]);
  });

  test('a row with more cells than the header is passed on with a problem', async () => {
    expect(await rowsOf(['a,b\n1,2,3,4\n'])).toStrictEqual([
      row(1, 2, 2, '1,2,3,4', ['1', '2', '3', '4'], 'has 4 columns, the header has 2'),
    ]);
  });

  test('a trailing delimiter counts as an extra column', async () => {
    expect(await rowsOf(['a,b\n1,2,\n'])).toStrictEqual([row(1, 2, 2, '1,2,', ['1', '2', ''], 'has 3 columns, the header has 2')]);
  });

  test('rows keep their physical lines: blank lines, multi-line quoted cells, CRLF', async () => {
    const text = 'id,note\r\n\r\n1,"two\r\nlines"\r\n,\r\n2,x\r\n';
    expect(await rowsOf([text])).toStrictEqual([row(1, 3, 4, '1,"two\r\nlines"', ['1', 'two\r\nlines']), row(2, 6, 6, '2,x', ['2', 'x'])]);
  });

  test('blank lines before the header are skipped; the header is the first real record', async () => {
    const { out } = await drain(['\n\nid\n7\n']);
    expect(out).toStrictEqual([{ columns: ['id'], rows: [row(1, 4, 4, '7', ['7'])] }]);
  });

  test('the same rows whatever the chunking', async () => {
    const text = 'id,"na,me"\n1,"a ""b"""\n2,"c\nd"\n3,e\n';
    const expected = [
      row(1, 2, 2, '1,"a ""b"""', ['1', 'a "b"']),
      row(2, 3, 4, '2,"c\nd"', ['2', 'c\nd']),
      row(3, 5, 5, '3,e', ['3', 'e']),
    ];
    expect(await rowsOf([text])).toStrictEqual(expected);
    const differing: number[] = [];
    for (let i = 0; i <= text.length; i++) {
      const { out, error } = await drain([text.slice(0, i), text.slice(i)]);
      const ok =
        error === undefined &&
        out.every((c) => JSON.stringify(c.columns) === '["id","na,me"]') &&
        JSON.stringify(out.flatMap((c) => c.rows)) === JSON.stringify(expected);
      if (!ok) differing.push(i);
    }
    expect(differing).toStrictEqual([]);
  });

  test('a chunk that holds only the header announces the columns; the rows follow', async () => {
    const { out } = await drain(['id,name\n', '1,Ann\n'], { delimiter: ',' });
    expect(out).toStrictEqual([
      { columns: ['id', 'name'], rows: [] },
      { columns: ['id', 'name'], rows: [row(1, 2, 2, '1,Ann', ['1', 'Ann'])] },
    ]);
  });

  test('one chunk out per input chunk that completes rows (delimiter given: nothing held to sniff)', async () => {
    const { out } = await drain(['id\n1\n', '2\n3\n'], { delimiter: ',' });
    expect(out.map((c) => c.rows.map((r) => r.row))).toStrictEqual([[1], [2, 3]]);
  });

  test('a header-only file yields its columns, no rows and no error', async () => {
    expect(await drain(['id,name\n'])).toStrictEqual({ out: [{ columns: ['id', 'name'], rows: [] }], error: undefined });
  });

  test.each([[[]], [['']], [['\n\r\n']], [[',,\n']]])('a file with no header (%j) fails with parse_error at line 1', async (chunks) => {
    const { out, error } = await drain(chunks);
    expect(out).toStrictEqual([]);
    expect(isAppError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'parse_error', message: 'the file has no header row', details: { line: 1 } });
  });

  test('custom delimiter', async () => {
    const { out } = await drain(['a;b\n"x;y";2\n'], { delimiter: ';' });
    expect(out).toStrictEqual([{ columns: ['a', 'b'], rows: [row(1, 2, 2, '"x;y";2', ['x;y', '2'])] }]);
  });

  test('tab delimiter', async () => {
    const { out } = await drain(['a\tb\n1,5\t2\n'], { delimiter: '\t' });
    expect(out).toStrictEqual([{ columns: ['a', 'b'], rows: [row(1, 2, 2, '1,5\t2', ['1,5', '2'])] }]);
  });

  test('an unclosed quote fails the file after the rows before it were yielded', async () => {
    const { out, error } = await drain(['id\n1\n', '"2\n3\n']);
    expect(out.flatMap((c) => c.rows)).toStrictEqual([row(1, 2, 2, '1', ['1'])]);
    expect(error).toMatchObject({ code: 'parse_error', details: { line: 3 } });
  });

  test('a record over maxRecordChars fails with parse_error', async () => {
    const { error } = await drain(['id\n', `"${'x'.repeat(40)}`], { maxRecordChars: 20 });
    expect(error).toMatchObject({ code: 'parse_error', details: { line: 2 } });
  });

  // BUG (parse-csv.ts): rows the scanner completed in a chunk are lost when the same push then
  // throws (record over maxRecordChars), so whether rows before the break are "landed" depends
  // on where the chunk boundaries fall. Split after "2\n" and rows 1 and 2 are yielded.
  test('rows read before an over-long record are yielded whatever the chunking', async () => {
    const { out, error } = await drain([`id\n1\n2\n"${'x'.repeat(40)}`], { maxRecordChars: 20 });
    expect(error).toMatchObject({ code: 'parse_error' });
    expect(out.flatMap((c) => c.rows.map((r) => r.row))).toStrictEqual([1, 2]);
  });

  test('an aborted signal stops the step', async () => {
    const { out, error } = await drain(['id\n1\n'], {}, { signal: AbortSignal.abort() });
    expect(out).toStrictEqual([]);
    expect(error).toMatchObject({ name: 'AbortError' });
  });
});
