import { datasetSpecSchema, FIELD_TYPES, foldColumnName, type DatasetSpecInput } from './dataset-spec.js';

/** The issues of a spec that must fail, as [path, message] pairs. */
function issues(input: unknown): Array<[Array<string | number>, string]> {
  const result = datasetSpecSchema.safeParse(input);
  if (result.success) throw new Error(`expected the spec to be refused: ${JSON.stringify(input)}`);
  return result.error.issues.map((i) => [i.path as Array<string | number>, i.message]);
}

const spec = (fields: DatasetSpecInput['fields'], key?: string[]): DatasetSpecInput =>
  key === undefined ? { name: 'people', fields } : { name: 'people', fields, key };

describe('datasetSpecSchema', () => {
  test('fills in defaults: not required, no aliases, no key, no read options', () => {
    expect(datasetSpecSchema.parse(spec([{ name: 'email', type: 'email' }]))).toStrictEqual({
      name: 'people',
      fields: [{ name: 'email', type: 'email', required: false, aliases: [] }],
      key: [],
      options: {},
    });
  });

  test('keeps every constraint it was given; trims aliases', () => {
    const parsed = datasetSpecSchema.parse(
      spec([
        { name: 'age', type: 'integer', min: 0, max: 150 },
        { name: 'code', type: 'string', minLength: 2, maxLength: 4, pattern: '^[A-Z]+$', aliases: [' Code No '] },
        { name: 'colour', type: 'enum', values: ['red', 'green'], required: true },
      ]),
    );
    expect(parsed.fields).toStrictEqual([
      { name: 'age', type: 'integer', required: false, aliases: [], min: 0, max: 150 },
      { name: 'code', type: 'string', required: false, aliases: ['Code No'], minLength: 2, maxLength: 4, pattern: '^[A-Z]+$' },
      { name: 'colour', type: 'enum', required: true, aliases: [], values: ['red', 'green'] },
    ]);
  });

  test('key fields become required; other fields keep their setting', () => {
    const parsed = datasetSpecSchema.parse(
      spec(
        [
          { name: 'email', type: 'email', required: false },
          { name: 'region', type: 'string' },
          { name: 'name', type: 'string', required: true },
        ],
        ['region', 'email'],
      ),
    );
    expect(parsed.fields.map((f) => [f.name, f.required])).toStrictEqual([
      ['email', true],
      ['region', true],
      ['name', true],
    ]);
    expect(parsed.key).toStrictEqual(['region', 'email']);
    const other = datasetSpecSchema.parse(
      spec(
        [
          { name: 'a', type: 'string' },
          { name: 'b', type: 'string' },
        ],
        ['a'],
      ),
    );
    expect(other.fields.map((f) => f.required)).toStrictEqual([true, false]);
  });

  test('rejects duplicate field names', () => {
    expect(
      issues(
        spec([
          { name: 'a', type: 'string' },
          { name: 'a', type: 'integer' },
        ]),
      ),
    ).toStrictEqual([[['fields'], 'field names must be unique']]);
  });

  test('rejects names that differ only in case: columns are matched case-insensitively', () => {
    expect(
      issues(
        spec([
          { name: 'email', type: 'string' },
          { name: 'Email', type: 'string' },
        ]),
      ),
    ).toStrictEqual([[['fields', 1], '"Email" already names field "email"']]);
  });

  test("rejects an alias that is another field's name", () => {
    expect(
      issues(
        spec([
          { name: 'a', type: 'string', aliases: ['B'] },
          { name: 'b', type: 'integer' },
        ]),
      ),
    ).toStrictEqual([[['fields', 1], '"b" already names field "a"']]);
  });

  test("rejects an alias that, trimmed and folded, is another field's alias", () => {
    expect(
      issues(
        spec([
          { name: 'mail', type: 'string', aliases: ['E-Mail'] },
          { name: 'email', type: 'string', aliases: ['  e-mail '] },
        ]),
      ),
    ).toStrictEqual([[['fields', 1], '"e-mail" already names field "mail"']]);
  });

  test("an alias may repeat its own field's name", () => {
    expect(datasetSpecSchema.parse(spec([{ name: 'a', type: 'string', aliases: ['A', ' a '] }])).fields[0]?.aliases).toStrictEqual([
      'A',
      'a',
    ]);
  });

  test('rejects a key that is not a field', () => {
    expect(issues(spec([{ name: 'a', type: 'string' }], ['a', 'nope']))).toStrictEqual([
      [['key', 1], '"nope" is not a field of this dataset'],
    ]);
  });

  test('rejects a key field named twice', () => {
    expect(issues(spec([{ name: 'a', type: 'string' }], ['a', 'a']))).toStrictEqual([[['key'], 'key fields must be unique']]);
  });

  test('rejects an enum without values', () => {
    expect(issues(spec([{ name: 'c', type: 'enum' }]))).toStrictEqual([[['fields', 0, 'values'], 'an enum field needs "values"']]);
  });

  test('rejects an enum with an empty list or an empty value', () => {
    expect(issues(spec([{ name: 'c', type: 'enum', values: [] }])).map(([path]) => path)).toStrictEqual([['fields', 0, 'values']]);
    expect(issues(spec([{ name: 'c', type: 'enum', values: ['a', ''] }])).map(([path]) => path)).toStrictEqual([
      ['fields', 0, 'values', 1],
    ]);
  });

  test('rejects values on a field that is not an enum', () => {
    expect(issues(spec([{ name: 'c', type: 'string', values: ['x'] }]))).toStrictEqual([
      [['fields', 0, 'values'], '"values" applies to enum fields only'],
    ]);
  });

  test('rejects min greater than max', () => {
    expect(issues(spec([{ name: 'n', type: 'number', min: 5, max: 1 }]))).toStrictEqual([
      [['fields', 0, 'min'], '"min" is greater than "max"'],
    ]);
  });

  test('min equal to max is allowed', () => {
    expect(datasetSpecSchema.parse(spec([{ name: 'n', type: 'integer', min: 3, max: 3 }])).fields[0]).toMatchObject({ min: 3, max: 3 });
  });

  test('rejects min or max on a field that is not numeric', () => {
    expect(issues(spec([{ name: 's', type: 'string', max: 1 }]))).toStrictEqual([
      [['fields', 0, 'min'], '"min" and "max" apply to integer and number fields'],
    ]);
  });

  test('rejects minLength greater than maxLength', () => {
    expect(issues(spec([{ name: 's', type: 'string', minLength: 5, maxLength: 1 }]))).toStrictEqual([
      [['fields', 0, 'minLength'], '"minLength" is greater than "maxLength"'],
    ]);
  });

  test('rejects length and pattern constraints on a field that is not text', () => {
    expect(issues(spec([{ name: 'n', type: 'integer', pattern: '^1' }]))).toStrictEqual([
      [['fields', 0, 'pattern'], '"minLength", "maxLength" and "pattern" apply to string and email fields'],
    ]);
  });

  test('rejects a pattern that is not a valid regular expression, with the reason', () => {
    const found = issues(spec([{ name: 's', type: 'string', pattern: '(' }]));
    expect(found).toHaveLength(1);
    expect(found[0]?.[0]).toStrictEqual(['fields', 0, 'pattern']);
    expect(found[0]?.[1]).toMatch(/^"pattern" is not a valid regular expression: .*Unterminated group/);
  });

  test('a pattern is checked with the u flag, as the validator runs it', () => {
    // Valid without the u flag, invalid with it.
    expect(issues(spec([{ name: 's', type: 'string', pattern: '\\-' }])).map(([path]) => path)).toStrictEqual([['fields', 0, 'pattern']]);
  });

  test('reports every problem at once, each at its path', () => {
    expect(issues(spec([{ name: 'c', type: 'enum' }], ['zz']))).toStrictEqual([
      [['fields', 0, 'values'], 'an enum field needs "values"'],
      [['key', 0], '"zz" is not a field of this dataset'],
    ]);
  });

  test('rejects bad dataset and field names', () => {
    expect(issues({ name: 'Bad Name', fields: [{ name: '1a', type: 'string' }] })).toStrictEqual([
      [['name'], 'must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit'],
      [['fields', 0, 'name'], 'must start with a letter or _ and contain only letters, digits and _ (at most 63)'],
    ]);
  });

  test('rejects an unknown type, unknown properties and an empty field list', () => {
    expect(issues(spec([{ name: 'a', type: 'text' as 'string' }])).map(([path]) => path)).toStrictEqual([['fields', 0, 'type']]);
    expect(issues(spec([{ name: 'a', type: 'string', extra: 1 } as never])).map(([path]) => path)).toStrictEqual([['fields', 0]]);
    expect(issues({ name: 'people', fields: [], other: true }).map(([path]) => path)).toStrictEqual([['fields'], []]);
  });

  test('FIELD_TYPES lists every type', () => {
    expect(FIELD_TYPES).toStrictEqual(['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'email', 'enum']);
  });
});

describe('foldColumnName', () => {
  test('trims and lower-cases', () => {
    expect(foldColumnName('  E-Mail Address\t')).toBe('e-mail address');
  });
});

test.each(['__proto__', 'constructor', 'prototype'])('a field named %s is refused', (name) => {
  const result = datasetSpecSchema.safeParse({ name: 'd', fields: [{ name, type: 'string' }] });
  expect(result.success).toBe(false);
  expect(result.error?.issues.map((i) => i.message)).toContain('is a reserved name');
});
