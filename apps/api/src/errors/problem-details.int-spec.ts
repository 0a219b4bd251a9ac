import { connect, type AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LightMyRequestResponse } from 'fastify';
import { TEST_API_KEY, deleteRedisPrefix, queryDatabase, startPrivateRedis, testDatabase, uniquePrefix, waitFor, type PrivateRedis } from '@taskq/testing';
import { PROBLEM_JSON, send, startApi } from '../tasks/testing/test-apps';

/**
 * Every kind of error the API answers — routing, authentication, scopes, rate limits, bodies,
 * URLs, raw HTTP, a failing route, Redis and PostgreSQL outages, shutdown — is an
 * application/problem+json document with type, title, status and detail; 5xx documents add
 * only a requestId, and their stack stays in the log.
 */
const db = testDatabase('api_problems');
const prefix = uniquePrefix('api-problems');
let app: NestFastifyApplication;

/** An API on its own database and its own Redis, both of which its tests break. */
const brokenDb = testDatabase('api_problems_broken');
const brokenPrefix = uniquePrefix('api-problems-broken');
let redis: PrivateRedis;
let broken: NestFastifyApplication;

/** What the apps log (JSON lines on stdout, LOG_LEVEL=error), kept from the console. */
const logLines: string[] = [];
let stdoutSpy: jest.SpyInstance;
const loggedEntries = (): Array<{ reqId?: string; err?: { stack?: string } }> =>
  logLines
    .join('')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { reqId?: string; err?: { stack?: string } }];
      } catch {
        return [];
      }
    });

beforeAll(async () => {
  stdoutSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logLines.push(String(chunk));
    return true;
  });
  redis = await startPrivateRedis();
  // The first app of a process sets the log level of all (see startAppLogging): this one logs errors.
  broken = await startApi(brokenDb.url, brokenPrefix, { REDIS_URL: redis.url, LOG_LEVEL: 'error', LOG_FORMAT: 'json' });
  app = await startApi(db.url, prefix);
});

afterAll(async () => {
  await broken?.close();
  await app?.close();
  stdoutSpy?.mockRestore();
  await redis?.stop();
  await brokenDb.drop();
  await deleteRedisPrefix(prefix);
  await deleteRedisPrefix(brokenPrefix);
  await db.drop();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; messages: string[] }>;
  requestId?: string;
}

/** Server internals that must never reach a client. */
const LEAKS = /\n\s+at |node_modules|\.[jt]s:\d+|QueryFailedError|relation "|SELECT |INSERT |ioredis|ECONNREFUSED/;

/** The answer is a problem document of `status` and `type`; returns it. */
function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, type: string): Problem {
  expect({ status: response.statusCode, body: response.body }).toMatchObject({ status });
  expect(String(response.headers['content-type'])).toMatch(PROBLEM_JSON);
  const problem = JSON.parse(response.body) as Problem;
  expect(problem).toMatchObject({ type, status, title: expect.stringMatching(/\S/), detail: expect.stringMatching(/\S/) });
  expect(response.body).not.toMatch(LEAKS);
  if (status >= 500) {
    // Nothing but the standard fields and the id the server log carries.
    expect(Object.keys(problem).sort()).toEqual(['detail', 'requestId', 'status', 'title', 'type']);
    expect(problem.requestId).toBe(response.headers['x-request-id']);
  }
  // Every 503 tells the client when to come back.
  if (status === 503) expect(response.headers['retry-after']).toMatch(/^\d+$/);
  return problem;
}

describe('routing', () => {
  it('answers an unknown route with 404', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/no-such-route' }), 404, '/problems/not-found');
  });

  it('answers a known path with another method with 405 and Allow', async () => {
    const response = await app.inject({ method: 'PUT', url: '/tasks' });
    expect(expectProblem(response, 405, '/problems/method-not-allowed').detail).toBe('PUT is not allowed on /tasks: use GET, HEAD, POST.');
    expect(response.headers['allow']).toBe('GET, HEAD, POST');

    const withParam = await app.inject({ method: 'GET', url: '/keys/AbCdEfGhIjKl' });
    expectProblem(withParam, 405, '/problems/method-not-allowed');
    expect(withParam.headers['allow']).toBe('DELETE');
  });

  it('answers an unknown task, schedule or key with 404', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/tasks/00000000-0000-4000-8000-000000000000' }), 404, '/problems/not-found');
    expectProblem(await app.inject({ method: 'DELETE', url: '/schedules/nothing-here' }), 404, '/problems/not-found');
    expectProblem(await app.inject({ method: 'DELETE', url: '/keys/AbCdEfGhIjKl' }), 404, '/problems/not-found');
  });
});

describe('authentication and scopes', () => {
  it('answers a request without a key, or with a wrong one, with 401 and a challenge', async () => {
    for (const headers of [{ authorization: undefined }, { authorization: 'Bearer not-a-key' }, { authorization: undefined, 'x-api-key': 'tq_AAAAAAAAAAAA_x' }]) {
      const response = await app.inject({ method: 'POST', url: '/tasks', headers, payload: '{}' });
      expectProblem(response, 401, '/problems/unauthorized');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // Even an unknown route: an anonymous client learns nothing about the routes.
    expectProblem(await app.inject({ method: 'GET', url: '/no-such-route', headers: { authorization: undefined } }), 401, '/problems/unauthorized');
  });

  it('answers a key without the route\'s scope with 403', async () => {
    const created = await send(app, 'POST', '/keys', { name: 'reader', scopes: ['tasks:read'] });
    const key = created.json<{ key: string }>().key;
    const response = await send(app, 'POST', '/tasks', { type: 'noop', payload: {} }, { authorization: `Bearer ${key}` });
    expect(expectProblem(response, 403, '/problems/forbidden').detail).toBe('This API key lacks the scope "tasks:write" that POST /tasks needs.');
  });
});

describe('bodies, URLs and headers', () => {
  it('answers an invalid body with 400 and errors[] naming each field', async () => {
    const problem = expectProblem(await send(app, 'POST', '/tasks', { type: 'sleep', payload: { ms: -1, colour: 'red' } }), 400, '/problems/validation-error');
    expect(problem.errors?.map((error) => error.field).sort()).toEqual(['payload.colour', 'payload.ms']);
  });

  it('answers malformed JSON with 400, a body over the limit with 413, another media type with 415', async () => {
    const json = { 'content-type': 'application/json' };
    expect(expectProblem(await app.inject({ method: 'POST', url: '/tasks', headers: json, payload: '{"type":' }), 400, '/problems/invalid-json').detail).toMatch(/^Malformed JSON/);
    expectProblem(await app.inject({ method: 'POST', url: '/tasks', headers: json, payload: `"${'x'.repeat(300_000)}"` }), 413, '/problems/payload-too-large');
    expectProblem(await app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'text/csv' }, payload: 'a,b' }), 415, '/problems/unsupported-media-type');
  });

  it('answers an unpaired surrogate in a body with 400, as it does a NUL character', async () => {
    const response = await app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: '{"type":"noop","payload":{"note":"\\ud800"}}' });
    expect(expectProblem(response, 400, '/problems/invalid-json').detail).toBe('Strings must be valid Unicode: an unpaired surrogate (\\ud800-\\udfff) is not allowed (at payload.note).');
  });

  it('answers a malformed percent-encoding with 400 and an over-long path parameter with 414, before any route runs', async () => {
    expectProblem(await app.inject({ method: 'POST', url: '/tasks/%E0%A4%A/cancel' }), 400, '/problems/invalid-url');
    const tooLong = await app.inject({ method: 'DELETE', url: `/schedules/${'a'.repeat(101)}` });
    expectProblem(tooLong, 414, '/problems/uri-too-long');
    expect(tooLong.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('answers NUL characters and prototype keys in the URL with 400 naming the parameter, where PostgreSQL would have failed', async () => {
    const inPath = expectProblem(await app.inject({ method: 'DELETE', url: '/keys/a%00b' }), 400, '/problems/validation-error');
    expect(inPath.errors).toEqual([{ field: 'prefix', messages: ['prefix must not contain the NUL character'] }]);
    const inQuery = expectProblem(await app.inject({ method: 'DELETE', url: '/dlq?type=noop%00' }), 400, '/problems/validation-error');
    expect(inQuery.errors).toEqual([{ field: 'type', messages: ['type must not contain the NUL character'] }]);
    const prototypeKey = expectProblem(await app.inject({ method: 'POST', url: '/dlq/requeue?constructor=x' }), 400, '/problems/validation-error');
    expect(prototypeKey.errors).toEqual([{ field: 'constructor', messages: ['the query parameter "constructor" is not allowed'] }]);
  });

  it('answers a bad Idempotency-Key header with 400 naming it', async () => {
    const problem = expectProblem(await send(app, 'POST', '/tasks', { type: 'noop', payload: {} }, { 'idempotency-key': 'has spaces' }), 400, '/problems/validation-error');
    expect(problem.errors).toEqual([{ field: 'Idempotency-Key', messages: ['must be 1 to 200 printable ASCII characters'] }]);
  });
});

describe('requests Node refuses before Fastify sees them', () => {
  let port: number;

  beforeAll(async () => {
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  it('answers headers over the size limit with 431', async () => {
    const answer = await rawExchange(port, `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectProblem(parseRaw(answer), 431, '/problems/request-header-fields-too-large');
  });

  it('answers something that is not HTTP with 400', async () => {
    expectProblem(parseRaw(await rawExchange(port, 'HELLO THERE\r\n\r\n')), 400, '/problems/bad-request');
  });
});

describe('rate limits', () => {
  const limitedDb = testDatabase('api_problems_limited');
  let limited: NestFastifyApplication;

  beforeAll(async () => {
    limited = await startApi(limitedDb.url, uniquePrefix('api-problems-limited'), { RATE_LIMIT_REQUESTS: '2', RATE_LIMIT_WINDOW_MS: '60000' });
  });

  afterAll(async () => {
    await limited?.close();
    await limitedDb.drop();
  });

  it('answers a key over its limit with 429 and a Retry-After header the detail points to', async () => {
    const answers: LightMyRequestResponse[] = [];
    for (let i = 0; i < 3; i++) answers.push(await limited.inject({ method: 'GET', url: '/task-types' }));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 429]);
    expect(answers[0]?.headers['x-ratelimit-limit']).toBe('2');
    const refused = answers[2] as LightMyRequestResponse;
    expect(expectProblem(refused, 429, '/problems/too-many-requests').detail).toBe('This API key made more than 2 requests in 60 s: retry after the time in Retry-After.');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('a route that fails, and Redis and PostgreSQL outages', () => {
  it('answers an unexpected failure inside a route with 500 carrying only a request id; the stack is in the log', async () => {
    await queryDatabase(brokenDb.url, 'ALTER TABLE tasks RENAME TO tasks_elsewhere');
    try {
      const response = await broken.inject({ method: 'GET', url: '/tasks', headers: { 'x-request-id': 'trace-500-test' } });
      const problem = expectProblem(response, 500, '/problems/internal-error');
      expect(problem).toEqual({ type: '/problems/internal-error', title: 'Internal server error', status: 500, detail: 'The server could not complete the request.', requestId: 'trace-500-test' });

      const logged = await waitFor(() => loggedEntries().find((entry) => entry.reqId === 'trace-500-test' && entry.err), { description: `the 500 logged with its request id in:\n${logLines.join('')}` });
      expect(logged.err?.stack).toMatch(/relation "tasks" does not exist[\s\S]*\n\s+at /);
    } finally {
      await queryDatabase(brokenDb.url, 'ALTER TABLE tasks_elsewhere RENAME TO tasks');
    }
  }, 20_000);

  it('answers 503 while Redis is down', async () => {
    await redis.stop();
    expect(expectProblem(await send(broken, 'POST', '/tasks', { type: 'noop', payload: {} }), 503, '/problems/service-unavailable').requestId).toEqual(expect.any(String));
    expectProblem(await broken.inject({ method: 'GET', url: '/schedules' }), 503, '/problems/service-unavailable');
    const ready = await broken.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['content-type']).toMatch(PROBLEM_JSON);
    // A public route: each check's status, and no driver message (hosts, ports, database names).
    expect(ready.json()).toEqual({
      type: '/problems/not-ready',
      title: 'Not ready',
      status: 503,
      detail: 'Unreachable: redis.',
      checks: { redis: { status: 'down' }, postgres: { status: 'up' } },
      requestId: ready.headers['x-request-id'],
    });
  });

  it('answers 503 while PostgreSQL is gone, for routes that read and for keys it cannot check', async () => {
    await brokenDb.drop();
    const list = await broken.inject({ method: 'GET', url: '/tasks' });
    expectProblem(list, 503, '/problems/service-unavailable');
    const one = await broken.inject({ method: 'GET', url: '/tasks/00000000-0000-4000-8000-000000000000' });
    expect(expectProblem(one, 503, '/problems/service-unavailable').detail).toBe('PostgreSQL is unavailable. Retry later.');
    const unknownKey = await broken.inject({ method: 'GET', url: '/tasks', headers: { authorization: 'Bearer tq_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expectProblem(unknownKey, 503, '/problems/service-unavailable');
  });
});

describe('shutdown', () => {
  it('answers a request that arrives on an open connection while the server drains with 503 and Connection: close', async () => {
    const drainingDb = testDatabase('api_problems_draining');
    const draining = await startApi(drainingDb.url, uniquePrefix('api-problems-draining'));
    try {
      await draining.listen(0, '127.0.0.1');
      const port = (draining.getHttpServer().address() as AddressInfo).port;
      const socket = connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      // A request in flight keeps the connection open through the drain: its headers are in
      // (the server said 100 Continue, so its hooks have run), its body not yet.
      const body = '{"type":"noop","payload":{"nope":1}}';
      socket.write(`POST /tasks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_API_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`);
      await waitFor(() => Buffer.concat(received).toString('utf8').startsWith('HTTP/1.1 100 Continue'), { description: '100 Continue' });
      const closing = draining.close();
      await waitFor(() => !draining.getHttpServer().listening, { description: 'the server stops listening' });
      socket.write(`${body}GET /task-types HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_API_KEY}\r\n\r\n`);
      await closed;
      await closing;

      const answers = Buffer.concat(received).toString('utf8').split(/(?=HTTP\/1\.1 )/).filter((answer) => !answer.startsWith('HTTP/1.1 100'));
      expect(answers).toHaveLength(2);
      expectProblem(parseRaw(answers[0] ?? ''), 400, '/problems/validation-error');
      const refused = parseRaw(answers[1] ?? '');
      expectProblem(refused, 503, '/problems/service-unavailable');
      expect(refused.headers['connection']).toBe('close');
    } finally {
      await draining.close().catch(() => undefined);
      await drainingDb.drop();
    }
  });
});

/** Sends raw bytes on a new connection; resolves with everything received until the server closes it. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** One HTTP/1.1 response as text: status, lower-cased headers, body (by content-length). */
function parseRaw(text: string): { statusCode: number; headers: Record<string, string>; body: string } {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const body = rest.join('\r\n\r\n');
  const length = Number(headers['content-length'] ?? body.length);
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(body).subarray(0, length).toString('utf8') };
}
