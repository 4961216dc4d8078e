import { isFormat, parseRows, resolveFormat } from './formats.js';
import type { RowChunk } from './rows.js';
import { from } from './steps.testing.js';

async function collect(it: AsyncIterable<RowChunk>): Promise<RowChunk[]> {
  const out: RowChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('resolveFormat', () => {
  test.each([
    [{ declared: 'csv', fileName: 'x.json' }, 'csv'],
    [{ declared: 'ndjson' }, 'ndjson'],
    [{ declared: 'xml', fileName: 'x.csv' }, undefined],
    [{ fileName: 'people.CSV' }, 'csv'],
    [{ fileName: 'people.tsv' }, 'csv'],
    [{ fileName: 'people.txt' }, 'csv'],
    [{ fileName: 'people.json' }, 'json'],
    [{ fileName: 'people.jsonl' }, 'ndjson'],
    [{ fileName: 'archive.tar.ndjson' }, 'ndjson'],
    [{ fileName: 'people.xlsx', contentType: 'text/csv' }, 'xlsx'],
    [{ fileName: 'people.pdf', contentType: 'text/csv' }, 'csv'],
    [{ fileName: 'people.csv.gz' }, 'csv'],
    [{ fileName: 'feed.NDJSON.GZ', contentType: 'application/gzip' }, 'ndjson'],
    [{ fileName: 'people', contentType: 'application/json; charset=utf-8' }, 'json'],
    [{ contentType: ' Application/X-NDJSON ' }, 'ndjson'],
    [{ contentType: 'text/tab-separated-values' }, 'csv'],
    [{ contentType: 'application/octet-stream' }, undefined],
    [{}, undefined],
  ])('%j → %j', (input, expected) => {
    expect(resolveFormat(input)).toBe(expected);
  });
});

describe('isFormat', () => {
  test.each([
    ['csv', true],
    ['json', true],
    ['ndjson', true],
    ['CSV', false],
    ['tsv', false],
  ])('%j → %j', (value, expected) => {
    expect(isFormat(value)).toBe(expected);
  });
});

describe('parseRows', () => {
  test('dispatches to the parser of each format', async () => {
    expect(await collect(parseRows('csv', from(['a;b\n1;2\n']), { csv: { delimiter: ';' } }))).toStrictEqual([
      { columns: ['a', 'b'], rows: [{ row: 1, line: 2, lineEnd: 2, raw: '1;2', cells: ['1', '2'], values: null }] },
    ]);
    expect(await collect(parseRows('json', from(['[{"a":1}]'])))).toStrictEqual([
      { columns: null, rows: [{ row: 1, line: 1, lineEnd: 1, raw: '{"a":1}', cells: null, values: { a: 1 } }] },
    ]);
    expect(await collect(parseRows('ndjson', from(['{"a":1}\n'])))).toStrictEqual([
      { columns: null, rows: [{ row: 1, line: 1, lineEnd: 1, raw: '{"a":1}', cells: null, values: { a: 1 } }] },
    ]);
  });
});
