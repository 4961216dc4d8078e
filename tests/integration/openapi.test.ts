import type { RouteOptions } from 'fastify';
import { getJson, startTestStack, type TestStack } from '../helpers/stack.js';
import { request } from './support.js';

// Every route the app registers, as the router sees them (HEAD twins of GETs aside).
const routes: Array<{ method: string; url: string; hidden: boolean }> = [];
const collect = (route: RouteOptions) => {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const hidden = route.schema?.hide === true;
  for (const method of methods) if (method !== 'HEAD') routes.push({ method, url: route.url, hidden });
};

let stack: TestStack;
let doc: Record<string, any>;
beforeAll(async () => {
  stack = await startTestStack({ ADMIN_KEY: 'admin-key-for-the-openapi-test-0123456789' }, { worker: false, onRoute: collect });
  const res = await getJson(stack, '/docs/json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => stack.close());

/** Fastify's `/jobs/:id` as OpenAPI writes it: `/jobs/{id}`. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('GET /docs/json', () => {
  test('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual(expect.objectContaining({ title: 'Sluice', version: '1' }));
  });

  test('documents every route the app registers, each method', () => {
    const visible = routes.filter((r) => !r.hidden);
    expect(visible.length).toBeGreaterThanOrEqual(13);
    const missing = visible.filter((r) => doc.paths?.[openapiPath(r.url)]?.[r.method.toLowerCase()] === undefined);
    expect(missing).toEqual([]);
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...new Set(visible.map((r) => `${r.method} ${openapiPath(r.url)}`))].sort());
  });

  test('only the documentation UI and the queue dashboard are left out', () => {
    const hidden = routes.filter((r) => r.hidden).map((r) => r.url);
    expect(hidden.length).toBeGreaterThan(0);
    expect(hidden.filter((url) => !url.startsWith('/docs') && !url.startsWith('/admin/queues'))).toEqual([]);
  });

  test('declares the bearer API key for every operation but the probes', () => {
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      adminKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(doc.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.paths['/ready'].get.security).toEqual([]);
    expect(doc.paths['/jobs/{id}'].get.security).toBeUndefined();
    expect(doc.paths['/metrics'].get.security).toEqual([]);
    expect(doc.paths['/admin/tenants'].post.security).toEqual([{ adminKey: [] }]);
    expect(doc.paths['/admin/tenants/{tenant}/keys/{key}'].delete.security).toEqual([{ adminKey: [] }]);
  });

  test('documents what /ready checks, upload storage among them, and its skip', () => {
    const ready = doc.paths['/ready'].get;
    expect(ready.parameters).toEqual([expect.objectContaining({ name: 'skip', in: 'query', required: false })]);
    const ok = ready.responses['200'].content['application/json'].schema;
    expect(ok.properties.checks.required).toEqual(['postgres', 'redis', 'storage']);
    expect(ok.properties.checks.properties.storage.enum).toEqual(['ok', 'skipped']);
    expect(Object.keys(ready.responses).sort()).toEqual(['200', '400', '503']);
  });

  test('describes request and response bodies from the zod schemas', () => {
    const create = doc.paths['/datasets'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['name', 'fields']));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '4XX', '5XX']));
    const job = doc.paths['/jobs/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(job.properties)).toEqual(
      expect.arrayContaining(['id', 'status', 'dataset', 'file', 'counts', 'progress', 'error', 'createdAt', 'finishedAt']),
    );
    expect(job.properties.status.enum).toEqual(['queued', 'processing', 'completed', 'failed', 'cancelled']);
    const error = create.responses['4XX'].content['application/json'].schema;
    expect(error.properties.error.required).toEqual(['code', 'message']);
  });

  test('describes the multipart upload and the event stream', () => {
    const upload = doc.paths['/upload'].post;
    const form = upload.requestBody.content['multipart/form-data'].schema;
    expect(form.required).toEqual(['dataset', 'file']);
    expect(form.properties.file).toEqual(expect.objectContaining({ type: 'string', format: 'binary' }));
    expect(upload.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]));
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(['200', '202']));
    expect(Object.keys(doc.paths['/jobs/{id}/events'].get.responses['200'].content)).toEqual(['text/event-stream']);
  });
});

describe('GET /docs', () => {
  test('serves Swagger UI, which loads the document', async () => {
    const res = await request(stack, 'GET', '/docs/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('swagger-ui');
    const init = await request(stack, 'GET', '/docs/static/swagger-initializer.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('json');
  });

  test('/docs/yaml is the same document as YAML', async () => {
    const res = await request(stack, 'GET', '/docs/yaml');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^openapi: 3\.1\.0/m);
    expect(res.text).toContain('/jobs/{id}/events:');
  });
});
