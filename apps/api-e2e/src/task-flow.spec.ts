import { createServer, type Server } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { TASK_TYPE_NAMES, type TaskView } from '@taskq/contracts';
import { TEST_REDIS_URL, apiFetch, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * The real api and worker processes, over HTTP: every built-in type runs to completion with
 * its result and attempt in PostgreSQL, and every kind of bad input is a 400 that stores nothing.
 */
const db = testDatabase('e2e_flow');
const prefix = uniquePrefix('e2e-flow');
let api: AppProcess;
let worker: AppProcess;
let baseUrl: string;
let smtp: SMTPServer;
let smtpPort: number;
const mails: Array<{ to: string[]; raw: string }> = [];
let hookServer: Server;
let hookUrl: string;
const hookRequests: Array<{ method: string; body: string }> = [];

async function submit(body: unknown): Promise<{ status: number; json: Record<string, unknown>; location: string | null }> {
  const response = await apiFetch(`${baseUrl}/submit-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, location: response.headers.get('location') };
}

async function finished(id: string): Promise<TaskView> {
  return waitFor(
    async () => {
      const task = (await (await apiFetch(`${baseUrl}/tasks/${id}`)).json()) as TaskView;
      return ['completed', 'dead'].includes(task.status) ? task : undefined;
    },
    { timeoutMs: 20_000, description: `task ${id} finished` },
  );
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
        callback();
      });
    },
  });
  smtpPort = await freePort();
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

  hookServer = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      hookRequests.push({ method: request.method ?? '', body });
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  const hookAddress = hookServer.address();
  hookUrl = `http://127.0.0.1:${typeof hookAddress === 'object' && hookAddress ? hookAddress.port : 0}/hook`;

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test' };
  api = startBuiltApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  worker = startBuiltApp('worker', {
    ...env,
    METRICS_PORT: '0',
    WORKER_ID: 'e2e-worker',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
});

afterAll(async () => {
  const codes = await Promise.all([worker?.stop(), api?.stop()]);
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  await new Promise<void>((resolve) => hookServer?.close(() => resolve()));
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0]);
});

describe('a task of each built-in type goes from POST /submit-task to its result in PostgreSQL', () => {
  it.each<[string, unknown, (result: Record<string, unknown>) => void]>([
    ['noop', { note: 'e2e' }, (result) => expect(result).toEqual({ ok: true, note: 'e2e' })],
    ['sleep', { ms: 50 }, (result) => expect(result).toEqual({ sleptMs: 50 })],
    [
      'email',
      { to: 'ops@example.com', subject: 'e2e subject', text: 'hello from taskq' },
      (result) => {
        expect(result).toMatchObject({ accepted: ['ops@example.com'], rejected: [] });
        const mail = mails.find((m) => m.raw.includes('e2e subject'));
        expect(mail?.to).toEqual(['ops@example.com']);
        expect(mail?.raw).toContain('hello from taskq');
      },
    ],
    [
      'webhook',
      { url: 'HOOK', method: 'POST', body: { event: 'e2e' } },
      (result) => {
        expect(result).toMatchObject({ status: 201, bodyExcerpt: '{"received":true}' });
        expect(hookRequests).toContainEqual({ method: 'POST', body: '{"event":"e2e"}' });
      },
    ],
    [
      'report',
      { windowMinutes: 60 },
      (result) => {
        expect(result).toMatchObject({ from: expect.any(String), to: expect.any(String), types: expect.any(Array) });
        const types = (result['types'] as Array<{ type: string; total: number }>).map((t) => t.type);
        expect(types).toContain('report');
      },
    ],
  ])('%s', async (type, rawPayload, checkResult) => {
    const payload = type === 'webhook' ? { ...(rawPayload as object), url: hookUrl } : rawPayload;
    const accepted = await submit({ type, payload });
    expect(accepted.status).toBe(202);
    const id = accepted.json['id'] as string;
    expect(accepted.location).toBe(`/tasks/${id}`);

    const task = await finished(id);
    expect(task.status).toBe('completed');
    checkResult(task.result as Record<string, unknown>);
    expect(task.attempts).toEqual([
      expect.objectContaining({ number: 1, workerId: 'e2e-worker', outcome: 'completed', durationMs: expect.any(Number), error: null }),
    ]);

    const [row] = await queryDatabase<{ status: string; result: unknown }>(db.url, 'SELECT status, result FROM tasks WHERE id = $1', [id]);
    expect(row).toEqual({ status: 'completed', result: task.result });
    const attempts = await queryDatabase<{ outcome: string; worker_id: string }>(db.url, 'SELECT outcome, worker_id FROM task_attempts WHERE task_id = $1', [id]);
    expect(attempts).toEqual([{ outcome: 'completed', worker_id: 'e2e-worker' }]);
  });

  it('lists the finished tasks newest first', async () => {
    const page = (await (await apiFetch(`${baseUrl}/tasks?status=completed&limit=100`)).json()) as { items: Array<{ type: string }> };
    expect(page.items.map((item) => item.type)).toEqual(['report', 'webhook', 'email', 'sleep', 'noop']);
  });
});

describe('bad input is a 400 and stores and queues nothing', () => {
  const rows = async (): Promise<number> => (await queryDatabase<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM tasks'))[0]?.n ?? -1;

  it.each<[string, string]>([
    ['unknown type', JSON.stringify({ type: 'carrier-pigeon', payload: {} })],
    ['invalid payload', JSON.stringify({ type: 'webhook', payload: { url: 'not a url', method: 'YELL' } })],
    ['malformed JSON', '{"type":"noop","payload":{'],
  ])('%s', async (_case, body) => {
    const before = await rows();
    const response = await apiFetch(`${baseUrl}/submit-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { status: number; detail: string; errors?: Array<{ field: string }> };
    expect(problem.status).toBe(400);
    if (_case === 'unknown type') expect(problem.detail).toContain(TASK_TYPE_NAMES.join(', '));
    if (_case === 'invalid payload') expect(problem.errors?.map((e) => e.field).sort()).toEqual(['payload.method', 'payload.url']);
    expect(await rows()).toBe(before);
  });
});
