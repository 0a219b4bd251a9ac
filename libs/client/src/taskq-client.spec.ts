import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TaskqClient } from './taskq-client';
import { TaskqError, TaskqNetworkError } from './errors';

/** The client against a local HTTP server that plays the API (not a mock of fetch). */
type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;
let server: Server;
let url: string;
let handle: Handler;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      handle(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => void seen.splice(0));

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  response.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers }).end(JSON.stringify(body));
};

describe(TaskqClient.name, () => {
  it('sends the key, generates an idempotency key, and keeps it when it retries a 503 after Retry-After', async () => {
    let calls = 0;
    handle = (_request, _body, response) => {
      calls += 1;
      if (calls === 1) json(response, 503, { type: '/problems/service-unavailable', title: 'Service unavailable', status: 503, detail: 'Redis is away' }, { 'retry-after': '0' });
      else json(response, 202, { id: 't1', type: 'sleep', status: 'queued', createdAt: '2026-12-04T00:00:00.000Z' });
    };
    const sut = new TaskqClient({ url, apiKey: 'k1' });
    await expect(sut.submit('sleep', { ms: 10 }, { priority: 5 })).resolves.toMatchObject({ id: 't1' });
    expect(seen).toHaveLength(2);
    expect(seen[0]?.headers['authorization']).toBe('Bearer k1');
    const key = seen[0]?.headers['idempotency-key'];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]?.headers['idempotency-key']).toBe(key);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ type: 'sleep', payload: { ms: 10 }, priority: 5 });
  });

  it('throws a TaskqError with the problem document, field errors included', async () => {
    handle = (_request, _body, response) =>
      json(response, 400, { type: '/problems/validation-error', title: 'Invalid request', status: 400, detail: 'The request is not valid', errors: [{ field: 'payload.ms', messages: ['ms is required'] }] });
    const sut = new TaskqClient({ url, apiKey: 'k1' });
    const error = await sut.submit('sleep', { ms: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskqError);
    expect(error).toMatchObject({ status: 400, problem: { type: '/problems/validation-error', errors: [{ field: 'payload.ms' }] } });
    expect((error as Error).message).toContain('payload.ms: ms is required');
    expect(seen).toHaveLength(1);
  });

  it('gives up on 429 after maxRetries', async () => {
    handle = (_request, _body, response) => json(response, 429, { type: '/problems/too-many-requests', title: 'Too many', status: 429, detail: 'slow down' }, { 'retry-after': '0' });
    const sut = new TaskqClient({ url, apiKey: 'k1', retry: { maxRetries: 2 } });
    await expect(sut.get('x')).rejects.toMatchObject({ status: 429 });
    expect(seen).toHaveLength(3);
  });

  it('follows cursor pages in list()', async () => {
    handle = (request, _body, response) => {
      const cursor = new URL(request.url ?? '', url).searchParams.get('cursor');
      json(response, 200, cursor ? { items: [{ id: 'b' }], nextCursor: null } : { items: [{ id: 'a' }], nextCursor: 'c1' });
    };
    const ids: string[] = [];
    for await (const task of new TaskqClient({ url, apiKey: 'k1' }).list({ status: 'completed', limit: 1 })) ids.push(task.id);
    expect(ids).toEqual(['a', 'b']);
    expect(seen.map((request) => request.url)).toEqual(['/tasks?status=completed&limit=1', '/tasks?status=completed&limit=1&cursor=c1']);
  });

  it('sends the new list filters, a Date as ISO 8601', async () => {
    handle = (_request, _body, response) => json(response, 200, { items: [], nextCursor: null });
    const sut = new TaskqClient({ url, apiKey: 'k1' });
    await sut.listPage({ from: new Date('2026-12-01T00:00:00Z'), to: '2026-12-02T00:00:00Z', q: 'order-42', tenant: 'acme', type: 'noop' });
    const query = new URL(seen[0]?.url ?? '', url).searchParams;
    expect(Object.fromEntries(query)).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00Z', q: 'order-42', tenant: 'acme', type: 'noop' });
  });

  it('reads the stats, with its window and tenant', async () => {
    const figures = { tenant: 'acme', windowMinutes: 5, from: '2026-12-04T00:00:00.000Z', to: '2026-12-04T00:05:00.000Z', types: [] };
    handle = (_request, _body, response) => json(response, 200, figures);
    const sut = new TaskqClient({ url, apiKey: 'k1' });
    await expect(sut.stats({ windowMinutes: 5, tenant: 'acme' })).resolves.toEqual(figures);
    await expect(sut.stats()).resolves.toEqual(figures);
    expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /stats?windowMinutes=5&tenant=acme', 'GET /stats']);
  });

  it('pauses, resumes and runs a schedule by its (encoded) name', async () => {
    handle = (request, _body, response) =>
      request.url?.endsWith('/run') ? json(response, 202, { id: 't9', type: 'noop', status: 'queued', createdAt: '2026-12-04T00:00:00.000Z' }) : json(response, 200, { name: 'a b' });
    const sut = new TaskqClient({ url, apiKey: 'k1' });
    await expect(sut.schedules.pause('a b')).resolves.toEqual({ name: 'a b' });
    await expect(sut.schedules.resume('a b')).resolves.toEqual({ name: 'a b' });
    await expect(sut.schedules.run('a b')).resolves.toMatchObject({ id: 't9', status: 'queued' });
    expect(seen.map((request) => `${request.method} ${request.url} ${request.body}`)).toEqual([
      'POST /schedules/a%20b/pause ',
      'POST /schedules/a%20b/resume ',
      'POST /schedules/a%20b/run ',
    ]);
  });

  it('wait() falls back to polling when the API has no event stream, and reports progress', async () => {
    let polls = 0;
    handle = (request, _body, response) => {
      if (request.url?.endsWith('/events')) return json(response, 404, { type: '/problems/not-found', title: 'Not found', status: 404, detail: 'Route GET:/tasks/t1/events not found' });
      polls += 1;
      json(response, 200, { id: 't1', type: 'sleep', tenant: 'default', status: polls < 3 ? 'active' : 'completed', progress: polls * 30, progressUpdatedAt: `2026-12-04T00:00:0${polls}.000Z` });
    };
    const progress: unknown[] = [];
    const task = await new TaskqClient({ url, apiKey: 'k1' }).wait('t1', { pollIntervalMs: 10, onProgress: (value) => progress.push(value) });
    expect(task.status).toBe('completed');
    // The first read only told the task exists (the 404 was the route's); polling reports from then on.
    expect(progress).toEqual([60, 90]);
  });

  it('does not resend a non-idempotent request after a network error', async () => {
    const sut = new TaskqClient({ url: 'http://127.0.0.1:9', apiKey: 'k1', retry: { maxRetries: 3 } });
    await expect(sut.cancel('t1')).rejects.toBeInstanceOf(TaskqNetworkError);
  });
});
