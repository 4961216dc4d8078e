import { sql } from 'kysely';
import { getJson, postJson, startTestStack, type TestStack } from '../helpers/stack.js';
import { countRows, expectError, ISO_RE, request, UUID_RE } from './support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

const PEOPLE = {
  name: 'people',
  key: ['email'],
  fields: [
    { name: 'email', type: 'email', aliases: ['E-mail', 'email_address'] },
    { name: 'name', type: 'string', maxLength: 200 },
    { name: 'signup_date', type: 'date' },
    { name: 'amount', type: 'number', min: 0 },
    { name: 'country', type: 'enum', values: ['DE', 'FR', 'US'] },
    { name: 'active', type: 'boolean', required: true },
  ],
};

// What the dataset is stored as: defaults filled in, and key fields made required.
const PEOPLE_FIELDS = [
  { name: 'email', type: 'email', required: true, aliases: ['E-mail', 'email_address'] },
  { name: 'name', type: 'string', required: false, aliases: [], maxLength: 200 },
  { name: 'signup_date', type: 'date', required: false, aliases: [] },
  { name: 'amount', type: 'number', required: false, aliases: [], min: 0 },
  { name: 'country', type: 'enum', required: false, aliases: [], values: ['DE', 'FR', 'US'] },
  { name: 'active', type: 'boolean', required: true, aliases: [] },
];

describe('POST /datasets', () => {
  test('creates a dataset: 201 with the dataset, Location, and one row in datasets', async () => {
    const res = await postJson(stack, '/datasets', PEOPLE);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/datasets/people');
    expect(res.body).toEqual({ id: expect.stringMatching(UUID_RE), name: 'people', key: ['email'], fields: PEOPLE_FIELDS, options: {}, createdAt: expect.stringMatching(ISO_RE) });

    const { rows } = await sql<{ id: string; name: string; key: string[]; fields: unknown }>`SELECT id, name, key, fields FROM datasets WHERE name = 'people'`.execute(
      stack.db,
    );
    expect(rows).toEqual([{ id: res.body.id, name: 'people', key: ['email'], fields: PEOPLE_FIELDS }]);
  });

  test('GET /datasets lists every dataset by name; GET /datasets/:name returns one', async () => {
    const created = await postJson(stack, '/datasets', { name: 'animals', fields: [{ name: 'species', type: 'string', required: true }] });
    expect(created.status).toBe(201);
    expect(created.body.key).toEqual([]);

    const list = await getJson(stack, '/datasets');
    expect(list.status).toBe(200);
    const names = (list.body.items as Array<{ name: string }>).map((d) => d.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['animals', 'people']));
    expect(list.body.items.find((d: { name: string }) => d.name === 'animals')).toEqual(created.body);

    const one = await getJson(stack, '/datasets/animals');
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);
    expect(one.body.fields).toEqual([{ name: 'species', type: 'string', required: true, aliases: [] }]);
  });

  test('a duplicate name → 409 conflict, and the first definition stays', async () => {
    const first = await postJson(stack, '/datasets', { name: 'dupe', fields: [{ name: 'a', type: 'string' }] });
    expect(first.status).toBe(201);
    const before = await countRows(stack, 'datasets');
    const second = await postJson(stack, '/datasets', { name: 'dupe', fields: [{ name: 'b', type: 'integer' }] });
    const error = expectError(second, 409, 'conflict');
    expect(error.message).toContain('dupe');
    expect(await countRows(stack, 'datasets')).toBe(before);
    expect((await getJson(stack, '/datasets/dupe')).body).toEqual(first.body);
  });

  test('an unknown dataset → 404 not_found', async () => {
    const res = await getJson(stack, '/datasets/no-such-dataset');
    const error = expectError(res, 404, 'not_found');
    expect(error.message).toContain('no-such-dataset');
  });
});

describe('an invalid definition → 400 naming the problem, and nothing stored', () => {
  // [label, body, what the message must say, the path it must name]
  const cases: Array<[string, unknown, RegExp, string]> = [
    ['a bad type', { name: 'bad-type', fields: [{ name: 'a', type: 'varchar' }] }, /expected one of "string"\|"integer"/, 'fields.0.type'],
    ['an enum without values', { name: 'bad-enum', fields: [{ name: 'c', type: 'enum' }] }, /an enum field needs "values"/, 'fields.0.values'],
    ['a key naming a missing field', { name: 'bad-key', key: ['nope'], fields: [{ name: 'a', type: 'string' }] }, /"nope" is not a field of this dataset/, 'key.0'],
    ['no fields', { name: 'no-fields', fields: [] }, /at least 1|>=1/, 'fields'],
    ['a bad dataset name', { name: 'Bad Name!', fields: [{ name: 'a', type: 'string' }] }, /lowercase letters/, 'name'],
    ['an unknown property', { name: 'extra-prop', fields: [{ name: 'a', type: 'string', colour: 'red' }] }, /colour/, 'fields.0'],
    ['min on a string', { name: 'bad-min', fields: [{ name: 'a', type: 'string', min: 1 }] }, /"min" and "max" apply to integer and number fields/, 'fields.0.min'],
  ];

  test.each(cases)('%s', async (_label, body, reason, path) => {
    const before = await countRows(stack, 'datasets');
    const res = await postJson(stack, '/datasets', body);
    const error = expectError(res, 400, 'validation_failed');
    expect(error.message).toMatch(reason);
    expect(error.message).toContain(path);
    expect(await countRows(stack, 'datasets')).toBe(before);
    const name = (body as { name: string }).name;
    expectError(await getJson(stack, `/datasets/${encodeURIComponent(name)}`), 404, 'not_found');
  });

  test('malformed JSON → 400 bad_request', async () => {
    const before = await countRows(stack, 'datasets');
    const res = await request(stack, 'POST', '/datasets', { headers: { 'content-type': 'application/json' }, body: '{"name": "broken", "fields": [' });
    expectError(res, 400, 'bad_request');
    expect(await countRows(stack, 'datasets')).toBe(before);
  });
});
