import { datasetSpecSchema, type DatasetSpecInput } from './dataset-spec.js';
import { sha256Hex } from './hash.js';
import { createRowPreparer, prepareRows } from './prepare.js';
import type { PreparedRow, RowChunk, SourceRow, ValidRow } from './rows.js';
import { from } from './steps.testing.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const PEOPLE: DatasetSpecInput['fields'] = [
  { name: 'email', type: 'email', aliases: ['E-Mail'] },
  { name: 'name', type: 'string' },
  { name: 'age', type: 'integer' },
];

function preparer(key: string[] = [], fields: DatasetSpecInput['fields'] = PEOPLE) {
  return createRowPreparer(datasetSpecSchema.parse({ name: 'people', fields, key }));
}

const csvRow = (cells: string[], row = 1): SourceRow => ({
  row,
  line: row + 1,
  lineEnd: row + 1,
  raw: cells.join(','),
  cells,
  values: null,
});
const jsonRow = (values: Record<string, unknown>, row = 1): SourceRow => ({
  row,
  line: row,
  lineEnd: row,
  raw: JSON.stringify(values),
  cells: null,
  values,
});

function valid(result: PreparedRow): ValidRow {
  if (!result.ok) throw new Error(`expected a valid row, got ${JSON.stringify(result.value.errors)}`);
  return result.value;
}

const COLUMNS = ['email', 'name', 'age'];
const BOB = ['bob@example.com', 'Bob', '30'];
const BOB_JSON = '{"age":30,"email":"bob@example.com","name":"Bob"}';

describe('createRowPreparer: valid rows', () => {
  test('json is the canonical JSON of the normalized data; contentHash is its SHA-256', () => {
    const out = preparer()(csvRow([' Bob@Example.com ', ' Bob ', ' 30 '], 4), COLUMNS);
    expect(out).toStrictEqual({
      ok: true,
      value: { row: 4, json: BOB_JSON, keyHash: sha256Hex(BOB_JSON), contentHash: sha256Hex(BOB_JSON) },
    });
  });

  test('with no key, keyHash equals contentHash', () => {
    const out = valid(preparer()(csvRow(BOB), COLUMNS));
    expect(out.keyHash).toBe(out.contentHash);
  });

  test('with a key, keyHash is the SHA-256 of the canonical JSON of the key fields alone', () => {
    const out = valid(preparer(['email'])(csvRow(BOB), COLUMNS));
    // sha256('{"email":"bob@example.com"}'), computed independently.
    expect(out.keyHash).toBe('244b7a597ed0abbb2ef0e17fc191404885a7674d5b55561503fce57793b7d98a');
    expect(out.contentHash).toBe(sha256Hex(BOB_JSON));
  });

  test('keyHash depends only on the key fields; contentHash on all of them', () => {
    const prepare = preparer(['email']);
    const a = valid(prepare(csvRow(['bob@example.com', 'Bob', '30']), COLUMNS));
    const b = valid(prepare(csvRow(['bob@example.com', 'Robert', '31']), COLUMNS));
    const c = valid(prepare(csvRow(['rob@example.com', 'Bob', '30']), COLUMNS));
    expect(b.keyHash).toBe(a.keyHash);
    expect(b.contentHash).not.toBe(a.contentHash);
    expect(c.keyHash).not.toBe(a.keyHash);
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  test('a composite key hashes its fields in sorted order, whatever order the spec names them', () => {
    const expected = sha256Hex('{"email":"bob@example.com","name":"Bob"}');
    expect(valid(preparer(['name', 'email'])(csvRow(BOB), COLUMNS)).keyHash).toBe(expected);
    expect(valid(preparer(['email', 'name'])(csvRow(BOB), COLUMNS)).keyHash).toBe(expected);
  });

  test('the same data in a different column order gives the same json and hashes', () => {
    const prepare = preparer(['email']);
    const a = valid(prepare(csvRow(['bob@example.com', 'Bob', '30']), ['email', 'name', 'age']));
    const b = valid(prepare(csvRow(['30', 'Bob', 'bob@example.com']), ['age', 'name', 'email']));
    expect(b).toStrictEqual(a);
    expect(a.json).toBe(BOB_JSON);
  });

  test('the same data as CSV cells and as a JSON object gives the same json and hashes', () => {
    const prepare = preparer(['email']);
    const a = valid(prepare(csvRow(BOB), COLUMNS));
    const b = valid(prepare(jsonRow({ age: 30, name: 'Bob', email: 'bob@example.com' }), null));
    expect(b).toStrictEqual(a);
  });

  test('emails differing in case and surrounding spaces give the same keyHash', () => {
    const prepare = preparer(['email']);
    const a = valid(prepare(csvRow(['bob@example.com', 'Bob', '30']), COLUMNS));
    const b = valid(prepare(csvRow(['  BOB@Example.COM\t', 'Bob', '30']), COLUMNS));
    const c = valid(prepare(jsonRow({ email: 'Bob@EXAMPLE.com ', name: 'Bob', age: 30 }), null));
    expect([b.keyHash, c.keyHash]).toStrictEqual([a.keyHash, a.keyHash]);
    expect([b.contentHash, c.contentHash]).toStrictEqual([a.contentHash, a.contentHash]);
  });

  test('headers are matched by alias, trimmed and case-insensitively', () => {
    const out = valid(preparer()(csvRow(BOB), [' e-mail ', 'NAME', 'Age']));
    expect(out.json).toBe(BOB_JSON);
  });

  test('columns that name no field are ignored', () => {
    const out = valid(preparer()(csvRow(['x', ...BOB]), ['notes', ...COLUMNS]));
    expect(out.json).toBe(BOB_JSON);
  });

  test('where two columns feed one field, the first wins', () => {
    const out = valid(preparer()(csvRow(['bob@example.com', 'ann@example.com', 'Bob', '30']), ['E-Mail', 'email', 'name', 'age']));
    expect(out.json).toBe(BOB_JSON);
  });
});

describe('createRowPreparer: rejected rows', () => {
  test('a row with a parser problem is rejected with that problem and no field', () => {
    const source: SourceRow = {
      row: 3,
      line: 4,
      lineEnd: 5,
      raw: 'a,b,c,d',
      cells: ['a', 'b', 'c', 'd'],
      values: null,
      problem: 'has 4 columns, the header has 3',
    };
    expect(preparer()(source, COLUMNS)).toStrictEqual({
      ok: false,
      value: {
        row: 3,
        line: 4,
        lineEnd: 5,
        raw: 'a,b,c,d',
        values: { email: 'a', name: 'b', age: 'c', column_4: 'd' },
        errors: [{ field: null, message: 'row has 4 columns, the header has 3' }],
      },
    });
  });

  test('a JSON row with a problem keeps no values', () => {
    const source: SourceRow = {
      row: 1,
      line: 1,
      lineEnd: 1,
      raw: '42',
      cells: null,
      values: null,
      problem: 'is a number, expected a JSON object',
    };
    expect(preparer()(source, null)).toStrictEqual({
      ok: false,
      value: {
        row: 1,
        line: 1,
        lineEnd: 1,
        raw: '42',
        values: {},
        errors: [{ field: null, message: 'row is a number, expected a JSON object' }],
      },
    });
  });

  test('a row that fails validation is rejected with every error and its values as the file had them', () => {
    const out = preparer(['email'])(csvRow(['', 'Bob', 'old'], 9), [' E-Mail', 'name', 'age']);
    expect(out).toStrictEqual({
      ok: false,
      value: {
        row: 9,
        line: 10,
        lineEnd: 10,
        raw: ',Bob,old',
        values: { ' E-Mail': '', name: 'Bob', age: 'old' },
        errors: [
          { field: 'email', message: 'is required' },
          { field: 'age', message: 'must be a whole number, got "old"' },
        ],
      },
    });
  });

  test('a JSON row that fails validation keeps its object as values', () => {
    const values = { email: 'nope', name: 'Bob', age: 30, extra: [1] };
    const out = preparer()(jsonRow(values, 2), null);
    expect(out).toStrictEqual({
      ok: false,
      value: {
        row: 2,
        line: 2,
        lineEnd: 2,
        raw: JSON.stringify(values),
        values,
        errors: [{ field: 'email', message: 'must be an email address, got "nope"' }],
      },
    });
  });

  // BUG (validate.ts, seen here): a CSV file without a column for an optional field rejects
  // every row with zod's "Invalid input: expected nonoptional, received undefined".
  test('a CSV file without a column for an optional field is accepted', () => {
    expect(valid(preparer()(csvRow(['bob@example.com', 'Bob']), ['email', 'name'])).json).toBe('{"email":"bob@example.com","name":"Bob"}');
  });

  // BUG (same cause): a JSON object without an optional property is rejected.
  test('a JSON object without an optional property is accepted', () => {
    expect(valid(preparer()(jsonRow({ email: 'bob@example.com', name: 'Bob' }), null)).json).toBe(
      '{"email":"bob@example.com","name":"Bob"}',
    );
  });

  // BUG (map.ts fromObject, validate.ts; dataset-spec.ts accepts the name): a field named
  test('an input property named like an Object.prototype member is just an unknown column', () => {
    const prepare = preparer([], [{ name: 'x', type: 'string' }]);
    const row = jsonRow(JSON.parse('{"constructor":"c","__proto__":{"x":"p"},"x":"own"}') as Record<string, unknown>);
    expect(valid(prepare(row, null)).json).toBe('{"x":"own"}');
  });

});

describe('prepareRows', () => {
  const chunk = (rows: SourceRow[]): RowChunk => ({ columns: COLUMNS, rows });

  test('prepares every row of every chunk, one array per chunk', async () => {
    const spec = datasetSpecSchema.parse({ name: 'p', fields: PEOPLE });
    const chunks = [chunk([csvRow(BOB, 1), csvRow(['x', 'Y', '1'], 2)]), chunk([csvRow(BOB, 3)])];
    const out = await collect(prepareRows(from(chunks), spec));
    expect(out.map((rows) => rows.map((r) => [r.value.row, r.ok]))).toStrictEqual([
      [
        [1, true],
        [2, false],
      ],
      [[3, true]],
    ]);
  });

  test('rows up to skipThrough are passed over; a chunk left empty yields nothing', async () => {
    const spec = datasetSpecSchema.parse({ name: 'p', fields: PEOPLE });
    const chunks = [chunk([csvRow(BOB, 1), csvRow(BOB, 2)]), chunk([csvRow(BOB, 3), csvRow(BOB, 4)])];
    const out = await collect(prepareRows(from(chunks), spec, { skipThrough: 3 }));
    expect(out.map((rows) => rows.map((r) => r.value.row))).toStrictEqual([[4]]);
  });

  test('an aborted signal stops the step', async () => {
    const spec = datasetSpecSchema.parse({ name: 'p', fields: PEOPLE });
    await expect(collect(prepareRows(from([chunk([csvRow(BOB)])]), spec, {}, { signal: AbortSignal.abort() }))).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
