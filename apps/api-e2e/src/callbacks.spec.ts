import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CallbackDeliveryView, SigningSecretView, SubmitTaskResponse, TaskView } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, parsePrometheusText, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * Completion callbacks through the real processes: exactly one verified delivery per terminal
 * state, tries until the receiver answers 2xx, and a delivery owed by a SIGKILLed monitor made
 * by the next one.
 */
jest.setTimeout(90_000);

const db = testDatabase('e2e_callbacks');
const prefix = uniquePrefix('e2e-callbacks');
const env = { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE: 'true' };
const monitorEnv = { ...env, CALLBACK_POLL_INTERVAL_MS: '100', CALLBACK_RETRY_BASE_MS: '100', CALLBACK_LEASE_MS: '2000', RECONCILE_INTERVAL_MS: '0' };
let api: AppProcess;
let worker: AppProcess;
let monitor: AppProcess;
let monitorMetricsUrl: string;
let baseUrl: string;
let receiver: Server;
let receiverUrl: string;

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  answered: number | null;
}
const received: Received[] = [];
/** How the receiver answers a path: a status, `hold` to keep the request open, or `late` for a 200 after 3 s. */
const behaviour = new Map<string, Array<number | 'hold' | 'late'>>();
const held: ServerResponse[] = [];

/** What the README shows a receiver doing: the HMAC of "<t>.<body>" under the tenant's secret, compared in constant time, and a fresh timestamp. */
function verified(request: Received, secret: string): boolean {
  const header = String(request.headers['taskq-signature'] ?? '');
  const parts = header.split(',').map((part) => part.split('=') as [string, string]);
  const timestamp = Number(parts.find(([name]) => name === 't')?.[1]);
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1_000 - timestamp) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest();
  return parts.some(([name, value]) => name === 'v1' && /^[0-9a-f]{64}$/.test(value) && timingSafeEqual(Buffer.from(value, 'hex'), expected));
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const response = await apiFetch(`${baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(202);
  return ((await response.json()) as SubmitTaskResponse).id;
}

const getTask = async (id: string): Promise<TaskView> => (await (await apiFetch(`${baseUrl}/tasks/${id}`)).json()) as TaskView;
const deliveries = async (id: string): Promise<CallbackDeliveryView[]> => ((await (await apiFetch(`${baseUrl}/tasks/${id}/callbacks`)).json()) as { items: CallbackDeliveryView[] }).items;
const secret = async (): Promise<SigningSecretView> => (await (await apiFetch(`${baseUrl}/signing-secret`)).json()) as SigningSecretView;
const receivedFor = (id: string): Received[] => received.filter((request) => (JSON.parse(request.body) as { id: string }).id === id);

async function delivered(id: string): Promise<TaskView> {
  return waitFor(
    async () => {
      const task = await getTask(id);
      return task.callback?.status === 'delivered' ? task : undefined;
    },
    { timeoutMs: 30_000, description: `the callback of task ${id} delivered` },
  );
}

async function startMonitor(): Promise<AppProcess> {
  const metricsPort = await freePort();
  monitorMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const started = startBuiltApp('monitor', { ...monitorEnv, METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' });
  // Ready before anything stops it: a SIGTERM before its handlers are in place would kill it outright.
  await waitForHttp(monitorMetricsUrl, started);
  return started;
}

async function deliveryOutcomes(): Promise<Record<'delivered' | 'retry' | 'failed', number | undefined>> {
  const scrape = parsePrometheusText(await (await fetch(monitorMetricsUrl)).text());
  const count = (outcome: string): number | undefined => scrape.value('taskq_callback_deliveries_total', { outcome });
  return { delivered: count('delivered'), retry: count('retry'), failed: count('failed') };
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = request.url ?? '/';
      const plan = behaviour.get(path) ?? [];
      const next = plan.shift() ?? 200;
      const entry: Received = { path, headers: request.headers, body, answered: next === 'hold' ? null : next === 'late' ? 200 : next };
      received.push(entry);
      if (next === 'hold') held.push(response);
      else if (next === 'late') setTimeout(() => response.writeHead(200).end('ok'), 3_000);
      else response.writeHead(next).end(next === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = startBuiltApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  worker = startBuiltApp('worker', { ...env, WORKER_ID: 'e2e-callbacks-worker' });
  monitor = await startMonitor();
});

afterAll(async () => {
  for (const response of held) response.destroy();
  const codes = await Promise.all([worker?.stop(), monitor?.stop(), api?.stop()]);
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0, 0]);
});

it('delivers exactly one verified callback per terminal state: completed, dead and cancelled', async () => {
  const { secret: key } = await secret();
  const completed = await submit({ type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/done` });
  const dead = await submit({ type: 'webhook', payload: { url: 'http://127.0.0.1:9/nothing-listens' }, maxAttempts: 1, callbackUrl: `${receiverUrl}/done` });
  const cancelled = await submit({ type: 'sleep', payload: { ms: 30_000 }, callbackUrl: `${receiverUrl}/done` });
  await waitFor(async () => (await getTask(cancelled)).status === 'active', { timeoutMs: 20_000, description: 'the sleep runs' });
  expect((await apiFetch(`${baseUrl}/tasks/${cancelled}/cancel`, { method: 'POST' })).status).toBe(200);

  for (const [id, event] of [[completed, 'completed'], [dead, 'dead'], [cancelled, 'cancelled']] as const) {
    const task = await delivered(id);
    expect(task.callback).toMatchObject({ event, status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null });
    const requests = receivedFor(id);
    expect(requests).toHaveLength(1);
    const [request] = requests as [Received];
    expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'taskq-event': event, 'taskq-delivery': task.callback?.id, 'user-agent': 'taskq-callbacks' });
    expect(verified(request, key)).toBe(true);
    expect(verified(request, `${key}x`)).toBe(false);
    const body = JSON.parse(request.body) as TaskView;
    expect(body).toMatchObject({ id, status: event, callbackUrl: `${receiverUrl}/done` });
    expect(body).not.toHaveProperty('callback');
    expect(await deliveries(id)).toEqual([{ callbackId: task.callback?.id, attempt: 1, event, at: expect.any(String), statusCode: 200, error: null, durationMs: expect.any(Number) }]);
  }
});

it('tries again until the receiver answers 2xx: two failures, then one success', async () => {
  const before = await deliveryOutcomes();
  behaviour.set('/flaky', [500, 503]);
  const id = await submit({ type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/flaky` });
  const task = await delivered(id);
  expect(task.callback).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200 });
  expect(receivedFor(id).map((request) => request.answered)).toEqual([500, 503, 200]);
  const tries = await deliveries(id);
  expect(tries.map((t) => [t.attempt, t.statusCode])).toEqual([[1, 500], [2, 503], [3, 200]]);
  expect(tries[0]?.error).toMatch(/answered 500/);
  expect(await deliveryOutcomes()).toEqual({ delivered: (before.delivered ?? 0) + 1, retry: (before.retry ?? 0) + 2, failed: 0 });
});

it('a delivery owed by a SIGKILLed monitor is made by the next one', async () => {
  behaviour.set('/slow', ['hold']);
  const id = await submit({ type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/slow` });
  await waitFor(() => receivedFor(id).length === 1, { timeoutMs: 20_000, description: 'the first delivery reached the receiver' });
  monitor.child.kill('SIGKILL');
  await monitor.exited();
  monitor = await startMonitor();
  const task = await delivered(id);
  expect(task.callback).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
  const requests = receivedFor(id);
  expect(requests.map((request) => request.answered)).toEqual([null, 200]);
  expect(requests[0]?.headers['taskq-delivery']).toBe(requests[1]?.headers['taskq-delivery']);
});

it('an answer slower than the lease is still one delivery', async () => {
  behaviour.set('/late', ['late']);
  const id = await submit({ type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/late` });
  const task = await delivered(id);
  expect(task.callback).toMatchObject({ status: 'delivered', attempts: 1 });
  expect(Number(monitorEnv.CALLBACK_LEASE_MS)).toBeLessThan(3_000);
  expect(receivedFor(id)).toHaveLength(1);
});

it('signs with both secrets for a while after a rotation', async () => {
  const before = await secret();
  const rotated = (await (await apiFetch(`${baseUrl}/signing-secret/rotate`, { method: 'POST' })).json()) as SigningSecretView;
  expect(rotated).toMatchObject({ previousSecret: before.secret, rotatedAt: expect.any(String) });
  expect(rotated.secret).not.toBe(before.secret);
  const id = await submit({ type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/done` });
  await delivered(id);
  const [request] = receivedFor(id) as [Received];
  expect(String(request.headers['taskq-signature']).match(/v1=/g)).toHaveLength(2);
  expect(verified(request, rotated.secret)).toBe(true);
  expect(verified(request, before.secret)).toBe(true);
});

it("a schedule's callback URL goes on every task it creates", async () => {
  const created = await apiFetch(`${baseUrl}/schedules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'with-callback', cron: '*/1 * * * * *', type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/scheduled` }),
  });
  expect(created.status).toBe(201);
  expect(await created.json()).toMatchObject({ callbackUrl: `${receiverUrl}/scheduled` });
  try {
    const request = await waitFor(() => received.find((entry) => entry.path === '/scheduled'), { timeoutMs: 20_000, description: 'a scheduled task called back' });
    expect(JSON.parse(request.body)).toMatchObject({ scheduleName: 'with-callback', status: 'completed', callbackUrl: `${receiverUrl}/scheduled` });
    expect(verified(request, (await secret()).secret)).toBe(true);
  } finally {
    expect((await apiFetch(`${baseUrl}/schedules/with-callback`, { method: 'DELETE' })).status).toBe(204);
  }
});

it('a monitor without WEBHOOK_ALLOW_PRIVATE refuses a private target at delivery, and tries again later', async () => {
  expect(await monitor.stop()).toBe(0);
  const strict = startBuiltApp('monitor', { ...monitorEnv, WEBHOOK_ALLOW_PRIVATE: 'false', CALLBACK_RETRY_BASE_MS: '60000' });
  try {
    // The API (with the switch) accepted the loopback URL; the strict monitor checks it again.
    const id = await submit({ type: 'noop', payload: {}, callbackUrl: `${receiverUrl}/private` });
    const refused = await waitFor(
      async () => {
        const task = await getTask(id);
        return task.callback?.attempts === 1 ? task : undefined;
      },
      { timeoutMs: 20_000, description: 'the first try refused' },
    );
    expect(refused.callback).toMatchObject({ status: 'pending', lastStatusCode: null, lastError: expect.stringMatching(/refused: .*WEBHOOK_ALLOW_PRIVATE/) });
    expect(received.filter((request) => request.path === '/private')).toEqual([]);
  } finally {
    expect(await strict.stop()).toBe(0);
    monitor = await startMonitor();
  }
});
