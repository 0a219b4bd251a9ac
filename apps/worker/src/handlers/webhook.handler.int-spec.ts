import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { WorkerConfig, loadConfig } from '@taskq/config';
import { PermanentTaskError, type WebhookPayload } from '@taskq/contracts';
import { waitFor } from '@taskq/testing';
import type { TaskContext } from './task-handler';
import { WebhookHandler } from './webhook.handler';

jest.setTimeout(20_000);

/*
 * Jest runs each test file in its own realm, where errors that Node itself creates (the
 * DOMException of AbortSignal.timeout) fail `instanceof Error` — in production they pass it.
 * Let this realm's Error recognise the main realm's errors too, so the handler's time-out
 * branch behaves here as it does in the real process.
 */
const HostError = Object.getPrototypeOf(DOMException.prototype).constructor as ErrorConstructor;
if (HostError !== Error) {
  Object.defineProperty(Error, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      return Function.prototype[Symbol.hasInstance].call(this, value) || (this === Error && Function.prototype[Symbol.hasInstance].call(HostError, value));
    },
  });
}

interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

function context(taskId: string, signal = new AbortController().signal): TaskContext {
  return {
    taskId,
    attempt: 1,
    maxAttempts: 8,
    signal,
    progress: async () => undefined,
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
  };
}

describe(WebhookHandler.name, () => {
  const received: ReceivedRequest[] = [];
  /** Answers per path; requests to /hang and /hang-body are left open. */
  const routes: Record<string, (response: ServerResponse) => void> = {
    '/ok': (response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}'),
    '/created': (response) => response.writeHead(201).end(''),
    '/big': (response) => response.writeHead(200).end('a'.repeat(10_000)),
    '/endless': (response) => {
      response.writeHead(200);
      Readable.from(
        (function* () {
          for (;;) yield 'b'.repeat(1_024);
        })(),
      ).pipe(response);
    },
    '/unavailable': (response) => response.writeHead(503).end('maintenance'),
    '/rate-limited': (response) => response.writeHead(429).end('slow down'),
    '/missing': (response) => response.writeHead(404).end('no such hook'),
    '/moved': (response) => response.writeHead(301, { location: '/ok' }).end(),
    '/hang': () => undefined,
    '/hang-body': (response) => {
      response.writeHead(200);
      response.write('partial');
    },
  };
  let server: Server;
  let base: string;
  let port: number;
  let sut: WebhookHandler;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '';
        received.push({ method: request.method ?? '', path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        (routes[path] ?? ((r: ServerResponse) => r.writeHead(500).end()))(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    sut = new WebhookHandler(loadConfig(WorkerConfig, { WEBHOOK_ALLOW_PRIVATE: 'true' }));
  });

  afterAll(async () => {
    await sut.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const requestsOf = (taskId: string): ReceivedRequest[] => received.filter((request) => request.headers['x-taskq-task-id'] === taskId);

  describe('with private targets allowed', () => {
    it('completes on 200 with the status and a body excerpt, after sending the JSON body and task headers', async () => {
      const taskId = randomUUID();
      const payload: WebhookPayload = { url: `${base}/ok`, method: 'PUT', headers: { authorization: 'Bearer t0k' }, body: { order: 42, items: ['a'] } };

      const result = await sut.handle(payload, context(taskId));

      expect(result).toEqual({ status: 200, bodyExcerpt: '{"accepted":true}', durationMs: expect.any(Number) });
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
      const [request, ...others] = requestsOf(taskId);
      expect(others).toHaveLength(0);
      expect(request).toMatchObject({ method: 'PUT', path: '/ok' });
      expect(request?.headers).toMatchObject({
        'x-taskq-task-id': taskId,
        'idempotency-key': taskId,
        'content-type': 'application/json',
        'user-agent': 'taskq-webhook/1',
        authorization: 'Bearer t0k',
      });
      expect(JSON.parse(request?.body ?? '')).toEqual({ order: 42, items: ['a'] });
    });

    it('POSTs by default and sends no body for GET', async () => {
      const postId = randomUUID();
      const getId = randomUUID();

      await sut.handle({ url: `${base}/created`, body: 'x' }, context(postId));
      await sut.handle({ url: `${base}/ok`, method: 'GET', body: { ignored: true } }, context(getId));

      expect(requestsOf(postId)[0]).toMatchObject({ method: 'POST', body: '"x"' });
      expect(requestsOf(getId)[0]).toMatchObject({ method: 'GET', body: '' });
      expect(requestsOf(getId)[0]?.headers['content-type']).toBeUndefined();
    });

    it('keeps only the first 2 KiB of a large answer', async () => {
      const result = await sut.handle({ url: `${base}/big` }, context(randomUUID()));

      expect(result.bodyExcerpt).toBe('a'.repeat(2_048));
    });

    it('stops reading an endless answer after 2 KiB instead of waiting for it to end', async () => {
      const result = await sut.handle({ url: `${base}/endless`, timeoutMs: 5_000 }, context(randomUUID()));

      expect(result).toMatchObject({ status: 200, bodyExcerpt: 'b'.repeat(2_048) });
    });

    it.each([
      ['/unavailable', 503, 'maintenance'],
      ['/rate-limited', 429, 'slow down'],
    ])('fails retryably on %s (%i)', async (path, status, body) => {
      const attempt = sut.handle({ url: `${base}${path}` }, context(randomUUID()));

      await expect(attempt).rejects.toThrow(`POST ${base}${path} answered ${status}: ${body}`);
      await expect(attempt).rejects.not.toBeInstanceOf(PermanentTaskError);
    });

    it.each([
      ['/missing', 404],
      ['/moved', 301],
    ])('fails permanently on %s (%i), without following redirects', async (path, status) => {
      const taskId = randomUUID();

      const attempt = sut.handle({ url: `${base}${path}` }, context(taskId));

      await expect(attempt).rejects.toBeInstanceOf(PermanentTaskError);
      await expect(attempt).rejects.toThrow(`answered ${status}`);
      expect(requestsOf(taskId).map((request) => request.path)).toEqual([path]);
    });

    it('fails retryably, naming the time-out, when the target never answers', async () => {
      const taskId = randomUUID();
      const started = Date.now();

      const attempt = sut.handle({ url: `${base}/hang`, timeoutMs: 200 }, context(taskId));

      await expect(attempt).rejects.toThrow(`POST ${base}/hang did not answer within 200 ms`);
      await expect(attempt).rejects.not.toBeInstanceOf(PermanentTaskError);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(requestsOf(taskId)).toHaveLength(1);
    });

    it('times out as well when the answer starts but its body never ends', async () => {
      const attempt = sut.handle({ url: `${base}/hang-body`, timeoutMs: 200 }, context(randomUUID()));

      await expect(attempt).rejects.toThrow('did not answer within 200 ms');
    });

    it('stops at once when the attempt is aborted', async () => {
      const controller = new AbortController();
      const taskId = randomUUID();

      const attempt = sut.handle({ url: `${base}/hang`, timeoutMs: 60_000 }, context(taskId, controller.signal));
      await waitFor(() => requestsOf(taskId).length === 1, { description: 'the request reached the server' });
      controller.abort(new Error('deadline'));

      await expect(attempt).rejects.toThrow();
      await expect(attempt).rejects.not.toThrow(/did not answer/);
    });
  });

  describe('with private targets refused (the default)', () => {
    let guarded: WebhookHandler;

    beforeAll(() => {
      guarded = new WebhookHandler(loadConfig(WorkerConfig, {}));
    });

    afterAll(async () => {
      await guarded.onApplicationShutdown();
    });

    it.each([
      ['the loopback literal', () => `${base}/ok`],
      ['localhost', () => `http://localhost:${port}/ok`],
      ['an IPv4-mapped IPv6 literal', () => `http://[::ffff:127.0.0.1]:${port}/ok`],
      ['a shorthand IPv4 literal', () => `http://127.1:${port}/ok`],
    ])('refuses %s permanently and sends nothing', async (_, url) => {
      const taskId = randomUUID();

      const attempt = guarded.handle({ url: url() }, context(taskId));

      await expect(attempt).rejects.toBeInstanceOf(PermanentTaskError);
      await expect(attempt).rejects.toThrow(/refused: .*not a public address.*WEBHOOK_ALLOW_PRIVATE=true/);
      expect(requestsOf(taskId)).toHaveLength(0);
    });
  });
});
