import { sql } from 'kysely';
import { getJson, postJson, startTestStack, upload, waitForJob, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
const DATASET = { name: 'events', key: ['id'], fields: [{ name: 'id', type: 'integer', required: true }, { name: 'label', type: 'string' }] };
const ROWS = 20_000;
const BIG = ['id,label', ...Array.from({ length: ROWS }, (_, i) => `${i + 1},label ${i + 1}`)].join('\n');

beforeAll(async () => {
  stack = await startTestStack({ BATCH_ROWS: '200' });
  expect((await postJson(stack, '/datasets', DATASET)).status).toBe(201);
});
afterAll(async () => stack.close());

const recordCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM records`.execute(stack.db)).rows[0]!.n;

async function waitForStatus(id: string, status: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { body } = await getJson(stack, `/jobs/${id}`);
    if (body.status === status) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${body.status}, never ${status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a running job cancels at a batch boundary, keeps what it committed, and a retry finishes it from there', async () => {
  const { body: job } = await upload(stack, 'events.csv', BIG, { dataset: 'events' });
  await waitForStatus(job.id, 'processing');

  const cancelled = await postJson(stack, `/jobs/${job.id}/cancel`, {});
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  const stopped = await waitForJob(stack, job.id);
  expect(stopped.status).toBe('cancelled');

  // Nothing more lands once the cancellation is seen; what landed matches the job's counts.
  await stack.stopWorker();
  const afterCancel = await recordCount();
  const { body: frozen } = await getJson(stack, `/jobs/${job.id}`);
  expect(frozen.counts.inserted).toBe(afterCancel);
  expect(afterCancel).toBeLessThan(ROWS);
  await stack.startWorker();

  const retried = await postJson(stack, `/jobs/${job.id}/retry`, {});
  expect(retried.status).toBe(202);
  expect(retried.body.status).toBe('queued');
  const done = await waitForJob(stack, job.id);
  expect(done.status).toBe('completed');
  expect(done.counts).toEqual({ rows: ROWS, valid: ROWS, invalid: 0, inserted: ROWS, updated: 0, unchanged: 0 });
  expect(await recordCount()).toBe(ROWS);
});

test('a job that failed on its data can be retried, and fails again with the same reason', async () => {
  const { body: job } = await upload(stack, 'broken.csv', 'id,label\n1,ok\n2,"never closed\n', { dataset: 'events' });
  const failed = await waitForJob(stack, job.id);
  expect(failed.status).toBe('failed');
  expect(failed.error?.code).toBe('parse_error');
  expect(failed.attempts).toBe(1);

  expect((await getJson(stack, '/jobs?status=failed')).body.items.map((j: { id: string }) => j.id)).toContain(job.id);
  expect((await postJson(stack, `/jobs/${job.id}/retry`, {})).status).toBe(202);
  const again = await waitForJob(stack, job.id);
  expect(again.status).toBe('failed');
  expect(again.error?.code).toBe('parse_error');
  expect(again.attempts).toBe(2);
});

test('only open jobs cancel and only failed or cancelled jobs retry; another id is 404', async () => {
  const { body: job } = await upload(stack, 'small.csv', 'id,label\n900001,x\n', { dataset: 'events' });
  expect((await waitForJob(stack, job.id)).status).toBe('completed');
  const cancel = await postJson(stack, `/jobs/${job.id}/cancel`, {});
  expect(cancel.status).toBe(409);
  expect(cancel.body).toEqual({ error: { code: 'conflict', message: expect.stringContaining('completed') } });
  expect((await postJson(stack, `/jobs/${job.id}/retry`, {})).status).toBe(409);
  expect((await postJson(stack, '/jobs/00000000-0000-4000-8000-000000000000/cancel', {})).status).toBe(404);
});
