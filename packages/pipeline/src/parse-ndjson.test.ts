import { jsonRow, parseNdjson } from './parse-ndjson.js';
import type { RowChunk, SourceRow, StepContext } from './rows.js';
import { collect, from } from './steps.testing.js';

const drain = (chunks: readonly string[], ctx?: StepContext): Promise<{ out: RowChunk[]; error: unknown }> => collect(parseNdjson(from(chunks), {}, ctx));

async function rowsOf(chunks: readonly string[]): Promise<SourceRow[]> {
  const { out, error } = await drain(chunks);
  if (error !== undefined) throw error;
  return out.flatMap((c) => c.rows);
}

const ok = (row: number, line: number, raw: string, values: Record<string, unknown>): SourceRow => ({
  row,
  line,
  lineEnd: line,
  raw,
  cells: null,
  values,
});

describe('parseNdjson', () => {
  test('one row per line, numbered, with its line and raw text', async () => {
    const { out, error } = await drain(['{"a":1}\n{"b":"x"}\n']);
    expect(error).toBeUndefined();
    expect(out).toStrictEqual([{ columns: null, rows: [ok(1, 1, '{"a":1}', { a: 1 }), ok(2, 2, '{"b":"x"}', { b: 'x' })] }]);
  });

  test('blank and whitespace-only lines are skipped but counted', async () => {
    expect(await rowsOf(['\n{"a":1}\n\n  \t\n{"a":2}\n\n'])).toStrictEqual([ok(1, 2, '{"a":1}', { a: 1 }), ok(2, 5, '{"a":2}', { a: 2 })]);
  });

  test('CRLF line ends: the CR is not part of raw', async () => {
    expect(await rowsOf(['{"a":1}\r\n\r\n{"a":2}\r\n'])).toStrictEqual([ok(1, 1, '{"a":1}', { a: 1 }), ok(2, 3, '{"a":2}', { a: 2 })]);
  });

  test('the last line needs no line end', async () => {
    expect(await rowsOf(['{"a":1}\n{"a":2}'])).toStrictEqual([ok(1, 1, '{"a":1}', { a: 1 }), ok(2, 2, '{"a":2}', { a: 2 })]);
    expect(await rowsOf(['{"a":1}\r\n{"a":2}\r'])).toStrictEqual([ok(1, 1, '{"a":1}', { a: 1 }), ok(2, 2, '{"a":2}', { a: 2 })]);
  });

  test('an invalid line is a row with a problem, not a failed file', async () => {
    const { out, error } = await drain(['{"a":1}\n{"a":\n{"a":3}\n']);
    expect(error).toBeUndefined();
    const rows = out.flatMap((c) => c.rows);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toStrictEqual(ok(1, 1, '{"a":1}', { a: 1 }));
    expect(rows[1]).toMatchObject({ row: 2, line: 2, lineEnd: 2, raw: '{"a":', cells: null, values: null });
    expect(rows[1]?.problem).toMatch(/^is not valid JSON: /);
    expect(rows[2]).toStrictEqual(ok(3, 3, '{"a":3}', { a: 3 }));
  });

  test.each([
    ['[1,2]', 'is an array, expected a JSON object'],
    ['42', 'is a number, expected a JSON object'],
    ['"s"', 'is a string, expected a JSON object'],
    ['null', 'is null, expected a JSON object'],
    ['false', 'is a boolean, expected a JSON object'],
  ])('a line %j is a row with the problem %j', async (line, problem) => {
    expect(await rowsOf([`${line}\n`])).toStrictEqual([{ row: 1, line: 1, lineEnd: 1, raw: line, cells: null, values: null, problem }]);
  });

  test('the same rows split at every position', async () => {
    const text = '{"a":"x\\ny"}\r\n\n{"b":[1,{"c":2}]}\nnot json\n{"d":"é"}';
    const want = JSON.stringify(await rowsOf([text]));
    expect(JSON.parse(want)).toHaveLength(4);
    const differing: number[] = [];
    for (let i = 0; i <= text.length; i++) {
      if (JSON.stringify(await rowsOf([text.slice(0, i), text.slice(i)])) !== want) differing.push(i);
    }
    expect(differing).toStrictEqual([]);
    expect(JSON.stringify(await rowsOf([...text]))).toBe(want);
  });

  test('empty input yields nothing and does not fail', async () => {
    expect(await drain([])).toStrictEqual({ out: [], error: undefined });
    expect(await drain(['', '\n\n'])).toStrictEqual({ out: [], error: undefined });
  });

  test('an aborted signal stops the step', async () => {
    const { out, error } = await drain(['{"a":1}\n'], { signal: AbortSignal.abort() });
    expect(out).toStrictEqual([]);
    expect(error).toMatchObject({ name: 'AbortError' });
  });
});

describe('jsonRow', () => {
  test('an object becomes values; position passes through', () => {
    expect(jsonRow(' {"a": [1]} ', 7, 3, 5)).toStrictEqual({
      row: 7,
      line: 3,
      lineEnd: 5,
      raw: ' {"a": [1]} ',
      cells: null,
      values: { a: [1] },
    });
  });

  test('invalid JSON names the parser error', () => {
    const row = jsonRow('{', 1, null, null);
    expect(row).toMatchObject({ row: 1, line: null, lineEnd: null, raw: '{', values: null });
    expect(row.problem).toMatch(/^is not valid JSON: .+/);
  });
});
