import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeadTaskAlert, DeadTaskAlertPayload } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, TEST_REDIS_URL, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * The monitor as `npm start` runs it, beside the built api and worker: a task that dies over
 * HTTP is logged and alerted to a webhook; requeued and dead again, it is alerted again.
 */
describe('monitor process', () => {
  const db = testDatabase('e2e_monitor');
  const prefix = uniquePrefix('e2e-monitor');
  const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };
  const alerts: Array<{ at: number; dead: DeadTaskAlert[] }> = [];
  let hooks: Server;
  let api: AppProcess;
  let worker: AppProcess;
  let monitor: AppProcess;
  let baseUrl: string;

  const alertsAbout = (id: string): DeadTaskAlert[] => alerts.flatMap((alert) => alert.dead.filter((dead) => dead.id === id));

  async function post(path: string, body?: unknown): Promise<{ status: number; json: { id?: string } }> {
    const response = await apiFetch(`${baseUrl}${path}`, {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json().catch(() => ({}))) as { id?: string } };
  }

  beforeAll(async () => {
    hooks = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        alerts.push({ at: Date.now(), dead: (JSON.parse(text) as DeadTaskAlertPayload).dead });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/alerts`;

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    api = startBuiltApp('api', { ...env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' });
    monitor = startBuiltApp('monitor', { ...env, LOG_LEVEL: 'info', METRICS_PORT: '-1', ALERT_WEBHOOK_URL: hookUrl, ALERT_INTERVAL_MS: '1000' });
    await waitForHttp(`${baseUrl}/health/ready`, api);
    await waitFor(() => monitor.output().includes('taskq monitor started'), { timeoutMs: 30_000, description: 'the monitor started' });
    const workerPort = await freePort();
    worker = startBuiltApp('worker', { ...env, LOG_LEVEL: 'warn', METRICS_PORT: String(workerPort), WORKER_QUEUES: 'sleep', SHUTDOWN_TIMEOUT_MS: '2000' });
    await waitForHttp(`http://127.0.0.1:${workerPort}/health`, worker);
  });

  afterAll(async () => {
    await Promise.all([api, worker, monitor].map((app) => app?.stop()));
    await new Promise<void>((resolve) => hooks?.close(() => resolve()));
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('logs the failed attempts of a task, and alerts its death each time it dies', async () => {
    const submitted = await post('/submit-task', { type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50, jitter: 'none' } });
    expect(submitted.status).toBe(202);
    const id = submitted.json.id as string;

    const [first] = await waitFor(() => (alertsAbout(id).length > 0 ? alertsAbout(id) : undefined), { timeoutMs: 20_000, description: `an alert about ${id}` });
    expect(first).toMatchObject({ id, type: 'sleep', attempts: 2, url: `/tasks/${id}` });
    const output = monitor.output();
    expect(output).toContain(`task ${id} (sleep) attempt 1 timed out`);
    expect(output).toContain(`task ${id} (sleep) attempt 2 timed out`);
    expect(output).toContain(`task ${id} (sleep) is dead after 2 attempt(s)`);

    // Requeued from the dead-letter queue, it dies again: a new death, a new alert.
    expect((await post(`/dlq/${id}/requeue`)).status).toBe(202);
    const again = await waitFor(() => (alertsAbout(id).length > 1 ? alertsAbout(id) : undefined), { timeoutMs: 20_000, description: `a second alert about ${id}` });
    expect(again[1]).toMatchObject({ id, attempts: 4 });
    expect(again[1]?.finishedAt).not.toBe(first?.finishedAt);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    expect(await monitor.stop()).toBe(0);
    expect(monitor.output()).not.toMatch(/\n\s+at /);
  });
});
