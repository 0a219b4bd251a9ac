import { randomUUID } from 'node:crypto';
import type { TaskView } from '@taskq/contracts';
import { TEST_API_KEY, apiFetch, deleteRedisPrefix, parsePrometheusText, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/** A process's stdout, as JSON lines; any line that is not a JSON object fails the test. */
class JsonLines {
  private text = '';

  constructor(app: AppProcess) {
    app.child.stdout?.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
  }

  all(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .slice(0, -1) // the last piece may be a line still being written
      .map((line) => {
        const value: unknown = JSON.parse(line);
        if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not a JSON object: ${line}`);
        return value as Record<string, unknown>;
      });
  }

  raw(): string {
    return this.text;
  }
}

/**
 * The built api, worker and monitor with stdout piped (not a terminal): every log line is a
 * JSON object; API lines carry the request id, worker lines the task; /metrics everywhere.
 */
describe('structured logs and metrics of the built processes', () => {
  const db = testDatabase('e2e_observability');
  const prefix = uniquePrefix('e2e-observability');
  const processes: AppProcess[] = [];
  let apiLogs: JsonLines;
  let workerLogs: JsonLines;
  let monitorLogs: JsonLines;
  let baseUrl: string;
  let workerUrl: string;
  let monitorUrl: string;

  beforeAll(async () => {
    const [apiPort, workerPort, monitorPort] = [await freePort(), await freePort(), await freePort()];
    baseUrl = `http://127.0.0.1:${apiPort}`;
    workerUrl = `http://127.0.0.1:${workerPort}`;
    monitorUrl = `http://127.0.0.1:${monitorPort}`;
    const env = { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };
    const api = startBuiltApp('api', { ...env, LOG_LEVEL: 'debug', PORT: String(apiPort), HOST: '127.0.0.1' });
    processes.push(api);
    apiLogs = new JsonLines(api);
    await waitForHttp(`${baseUrl}/health/ready`, api);
    const worker = startBuiltApp('worker', { ...env, LOG_LEVEL: 'info', METRICS_PORT: String(workerPort), WORKER_ID: 'e2e-observability' });
    const monitor = startBuiltApp('monitor', { ...env, LOG_LEVEL: 'info', METRICS_PORT: String(monitorPort) });
    processes.push(worker, monitor);
    workerLogs = new JsonLines(worker);
    monitorLogs = new JsonLines(monitor);
    await Promise.all([waitForHttp(`${workerUrl}/health`, worker), waitForHttp(`${monitorUrl}/health`, monitor)]);
  });

  afterAll(async () => {
    const codes = await Promise.all(processes.map((app) => app.stop()));
    await db.drop();
    await deleteRedisPrefix(prefix);
    expect(codes).toEqual(processes.map(() => 0));
  });

  async function submitNoop(headers: Record<string, string>): Promise<{ id: string; requestId: string | null }> {
    const response = await apiFetch(`${baseUrl}/submit-task`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ type: 'noop', payload: { note: 'logged' } }),
    });
    expect(response.status).toBe(202);
    return { id: ((await response.json()) as { id: string }).id, requestId: response.headers.get('x-request-id') };
  }

  it('logs each API request as JSON, every line of it carrying the request id, with credentials redacted', async () => {
    const requestId = `e2e-${randomUUID()}`;

    // apiFetch sends the API key as `authorization: Bearer …`.
    const { id, requestId: echoed } = await submitNoop({ 'x-request-id': requestId, cookie: 'session=also-secret' });

    expect(echoed).toBe(requestId);
    const lines = await waitFor(() => {
      const mine = apiLogs.all().filter((line) => line['reqId'] === requestId);
      return mine.some((line) => line['res']) && mine;
    }, { description: `the API logged request ${requestId}` });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'debug', app: 'api', context: 'TaskSubmissionService', msg: 'task accepted', taskId: id, type: 'noop' }),
        expect.objectContaining({
          level: 'info',
          msg: expect.stringMatching(/^POST \/submit-task 202 in \d+ ms$/),
          req: expect.objectContaining({ id: requestId, method: 'POST', url: '/submit-task', headers: expect.objectContaining({ authorization: '[redacted]', cookie: '[redacted]' }) }),
          res: expect.objectContaining({ statusCode: 202 }),
          responseTime: expect.any(Number),
        }),
      ]),
    );
    expect(apiLogs.all().every((line) => typeof line['time'] === 'string' && typeof line['level'] === 'string' && line['app'] === 'api')).toBe(true);
    expect(apiLogs.raw()).not.toContain(TEST_API_KEY);
    expect(apiLogs.raw()).not.toContain('also-secret');
  });

  it('generates a request id when the client sends none, and answers with it', async () => {
    const { requestId } = await submitNoop({});

    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => apiLogs.all().some((line) => line['reqId'] === requestId && line['res']), { description: 'the request line carries the generated id' });
  });

  it("logs the worker's attempt with taskId, type and attempt as JSON fields", async () => {
    const { id } = await submitNoop({});

    const line = await waitFor(() => workerLogs.all().find((entry) => entry['taskId'] === id && entry['msg'] === 'attempt completed'), {
      timeoutMs: 15_000,
      description: `the worker logged task ${id}`,
    });

    expect(line).toMatchObject({ level: 'info', app: 'worker', context: 'TaskRunner', taskId: id, type: 'noop', attempt: 1, outcome: 'completed', durationMs: expect.any(Number) });
    expect(workerLogs.all().every((entry) => entry['app'] === 'worker')).toBe(true);
    const task = (await (await apiFetch(`${baseUrl}/tasks/${id}`)).json()) as TaskView;
    expect(task.status).toBe('completed');
  });

  it('serves /metrics on the API, the worker and the monitor', async () => {
    const scrape = async (url: string) => {
      const response = await apiFetch(`${url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(await response.text());
    };

    const [api, worker, monitor] = await Promise.all([scrape(baseUrl), scrape(workerUrl), scrape(monitorUrl)]);

    expect(api.value('taskq_tasks_submitted_total', { type: 'noop' })).toBeGreaterThanOrEqual(3);
    expect(worker.value('taskq_tasks_completed_total', { type: 'noop' })).toBeGreaterThanOrEqual(1);
    expect(monitor.value('taskq_queue_depth_up')).toBe(1);
    expect(monitor.value('taskq_queue_jobs', { type: 'noop', state: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(monitorLogs.all().length).toBeGreaterThan(0);
    expect(monitorLogs.all().every((line) => line['app'] === 'monitor')).toBe(true);
  });
});
