import { getJson, startTestStack, type TestStack } from '../helpers/stack.js';
import { createDataset, expectError, ingest, ISO_RE, recordRows, request, walkPages } from './support.js';

let stack: TestStack;
let jobId: string;
let otherJobId: string;

function contacts(name: string) {
  return { name, key: ['email'], fields: [{ name: 'email', type: 'email', required: true }, { name: 'n', type: 'integer' }] };
}

beforeAll(async () => {
  stack = await startTestStack();
  await createDataset(stack, contacts('rec-main'));
  await createDataset(stack, contacts('rec-other'));
  await createDataset(stack, contacts('rec-empty'));
  const rows = Array.from({ length: 5 }, (_, i) => `r${i + 1}@example.com,${i + 1}`);
  jobId = (await ingest(stack, 'rec-main', 'main.csv', ['email,n', ...rows, ''].join('\n'))).job.id;
  otherJobId = (await ingest(stack, 'rec-other', 'other.csv', 'email,n\nx@example.com,99\n')).job.id;
});
afterAll(async () => stack.close());

test('GET /records?dataset= lists only that dataset’s records, in id order, shaped as the API says', async () => {
  const res = await getJson(stack, '/records?dataset=rec-main');
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  const table = await recordRows(stack, 'rec-main');
  expect(table).toHaveLength(5);
  expect(res.body.items).toEqual(
    table.map((r) => ({
      id: String(r.id),
      dataset: 'rec-main',
      data: r.data,
      jobId,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    })),
  );
  expect(res.body.items.map((r: { data: { n: number } }) => r.data.n).sort()).toEqual([1, 2, 3, 4, 5]);
  for (const item of res.body.items) expect(item.createdAt).toMatch(ISO_RE);
});

test('pagination: limit + cursor walk every record once, in identity order, and nextCursor is null at the end', async () => {
  const rows = await recordRows(stack, 'rec-main');
  const table = [...rows].sort((a, b) => (a.key_hash < b.key_hash ? -1 : 1)).map((r) => String(r.id));
  const byTwo = await walkPages(stack, '/records?dataset=rec-main', 2);
  expect(byTwo.pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
  expect(byTwo.pages.at(-1)?.nextCursor).toBeNull();
  expect(byTwo.ids).toEqual(table);

  const byOne = await walkPages(stack, '/records?dataset=rec-main', 1);
  expect(byOne.ids).toEqual(table);
  const byFive = await walkPages(stack, '/records?dataset=rec-main', 5);
  expect(byFive.pages).toHaveLength(1);
  expect(byFive.ids).toEqual(table);
});

test('a dataset without records lists nothing', async () => {
  expect((await getJson(stack, '/records?dataset=rec-empty')).body).toEqual({ items: [], nextCursor: null });
});

test('GET /records/:id returns the record as listed', async () => {
  const list = await getJson(stack, '/records?dataset=rec-main');
  for (const item of list.body.items) {
    const one = await getJson(stack, `/records/${item.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(item);
  }
  const other = (await recordRows(stack, 'rec-other'))[0]!;
  expect((await getJson(stack, `/records/${other.id}`)).body).toEqual(
    expect.objectContaining({ id: String(other.id), dataset: 'rec-other', jobId: otherJobId, data: { email: 'x@example.com', n: 99 } }),
  );
});

test.each([
  ['an unknown id', '/records/999999999'],
  ['id 0', '/records/0'],
  ['a non-numeric id', '/records/abc'],
  ['a negative id', '/records/-1'],
  ['a fractional id', '/records/1.5'],
  ['an id beyond bigint', '/records/99999999999999999999999'],
])('%s → 404 not_found', async (_label, url) => {
  const error = expectError(await getJson(stack, url), 404, 'not_found');
  expect(error.message).toContain(url.split('/').at(-1));
});

test('an unknown dataset → 404 not_found', async () => {
  const error = expectError(await getJson(stack, '/records?dataset=no-such'), 404, 'not_found');
  expect(error.message).toContain('no-such');
});

test.each([
  ['no dataset', '/records'],
  ['limit 0', '/records?dataset=rec-main&limit=0'],
  ['a cursor that no page gave', '/records?dataset=rec-main&cursor=abc'],
])('%s → 400 validation_failed', async (_label, url) => {
  expectError(await request(stack, 'GET', url), 400, 'validation_failed');
});
