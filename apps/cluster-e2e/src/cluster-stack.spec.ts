import { Cluster } from 'ioredis';
import { TASK_TYPE_NAMES, type TaskType, type TaskView } from '@taskq/contracts';
import {
  TEST_REDIS_URL,
  apiFetch,
  deleteRedisPrefix,
  freePort,
  openEventStream,
  startBuiltApp,
  testDatabase,
  testRedisClient,
  uniquePrefix,
  waitFor,
  waitForHttp,
  type AppProcess,
} from '@taskq/testing';

/**
 * The whole stack (api, worker, monitor) on the suite's three-master Redis Cluster: how the
 * queues lie on it, and the features the task-flow and lifecycle suites do not already cover
 * there: delays, priorities, schedules, live events, rate limits, backlog limits, Bull Board.
 */
const db = testDatabase('cluster_stack');
const prefix = uniquePrefix('cluster-stack');
const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'test', LOG_LEVEL: 'warn' };
const board = { BOARD_ADMIN_USER: 'ops', BOARD_ADMIN_PASSWORD: 'cluster-board-secret' };
const apps: AppProcess[] = [];
let baseUrl: string;
let redis: Cluster;

async function startApi(extra: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  const api = startBuiltApp('api', { ...env, ...board, HOST: '127.0.0.1', PORT: String(port), ...extra });
  apps.push(api);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health/ready`, api);
  return url;
}

function startWorker(id: string, extra: Record<string, string> = {}): AppProcess {
  const worker = startBuiltApp('worker', { ...env, WORKER_ID: id, ...extra });
  apps.push(worker);
  return worker;
}

async function post<T>(url: string, path: string, body: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await apiFetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

const getTask = async (id: string): Promise<TaskView> => (await (await apiFetch(`${baseUrl}/tasks/${id}`)).json()) as TaskView;

const completed = (id: string): Promise<TaskView> =>
  waitFor(
    async () => {
      const task = await getTask(id);
      return task.status === 'completed' ? task : undefined;
    },
    { timeoutMs: 20_000, description: `task ${id} completed` },
  );

beforeAll(async () => {
  redis = testRedisClient(TEST_REDIS_URL) as Cluster;
  baseUrl = await startApi();
  const monitor = startBuiltApp('monitor', { ...env, LOG_LEVEL: 'info' });
  apps.push(monitor);
  await waitFor(() => monitor.output().includes('taskq monitor started'), { timeoutMs: 30_000, description: 'the monitor started' });
});

afterAll(async () => {
  const codes = await Promise.all(apps.map((app) => app.stop()));
  redis?.disconnect();
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes.every((code) => code === 0)).toBe(true);
});

describe('taskq on a Redis Cluster', () => {
  it('runs queued tasks by priority once a worker comes, and a delayed task after its delay', async () => {
    // No worker yet: the jobs wait in the sleep queue, to be taken one at a time by priority.
    const priorities = [5, 1, 9, 3];
    const ids: string[] = [];
    for (const priority of priorities) ids.push((await post<{ id: string }>(baseUrl, '/submit-task', { type: 'sleep', payload: { ms: 20 }, priority })).body.id);
    const delayed = await post<{ id: string; status: string }>(baseUrl, '/submit-task', { type: 'noop', payload: {}, delayMs: 1_500 });
    expect(delayed.body.status).toBe('delayed');

    startWorker('cluster-worker', { WORKER_CONCURRENCY: 'sleep=1' });
    const tasks = await Promise.all(ids.map(completed));
    const startOrder = [...tasks].sort((a, b) => Date.parse(a.startedAt ?? '') - Date.parse(b.startedAt ?? '')).map((task) => task.priority);
    expect(startOrder).toEqual([1, 3, 5, 9]);

    const late = await completed(delayed.body.id);
    expect(Date.parse(late.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(late.createdAt) + 1_500);
  });

  it('keeps every key of one queue on one slot, and spreads the queues over more than one master', async () => {
    // One task of every type creates every queue's keys (the email and webhook ones fail: no SMTP server, a private address).
    const payloads: Record<TaskType, object> = {
      noop: {},
      sleep: { ms: 1 },
      report: {},
      email: { to: ['ops@example.com'], subject: 'cluster', text: 'hello' },
      webhook: { url: 'http://127.0.0.1:9/hook' },
    };
    for (const type of TASK_TYPE_NAMES) expect((await post(baseUrl, '/submit-task', { type, payload: payloads[type], maxAttempts: 1 })).status).toBe(202);
    await completed((await post<{ id: string }>(baseUrl, '/submit-task', { type: 'noop', payload: {} })).body.id);

    const slotsByQueue = new Map<string, Set<number>>();
    const mastersByQueue = new Map<string, Set<string>>();
    for (const master of redis.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await master.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const queue = /^[^:]+:(\{[^}]+\})/.exec(key)?.[1];
          if (!queue) continue;
          const slot = Number(await master.cluster('KEYSLOT', key));
          slotsByQueue.set(queue, (slotsByQueue.get(queue) ?? new Set()).add(slot));
          mastersByQueue.set(queue, (mastersByQueue.get(queue) ?? new Set()).add(`${master.options.host}:${master.options.port}`));
        }
      } while (cursor !== '0');
    }
    expect([...slotsByQueue.keys()]).toEqual(expect.arrayContaining(['{noop}', '{sleep}']));
    for (const [queue, slots] of slotsByQueue) {
      expect({ queue, slots: slots.size }).toEqual({ queue, slots: 1 });
      expect({ queue, masters: mastersByQueue.get(queue)?.size }).toEqual({ queue, masters: 1 });
    }
    const mastersInUse = new Set([...mastersByQueue.values()].flatMap((masters) => [...masters]));
    expect(mastersInUse.size).toBeGreaterThan(1);
  });

  it('streams a task’s events from whichever process commits them (pub/sub across the cluster)', async () => {
    const { body } = await post<{ id: string }>(baseUrl, '/submit-task', { type: 'sleep', payload: { ms: 300 } });
    const stream = await openEventStream(`${baseUrl}/tasks/${body.id}/events`);
    expect(stream.status).toBe(200);
    await stream.ended;
    const statuses = stream.events.map((event) => (JSON.parse(event.data) as { status?: string }).status);
    expect(statuses.at(-1)).toBe('completed');
  });

  it('runs a schedule every second', async () => {
    const created = await post(baseUrl, '/schedules', { name: 'cluster-every-second', cron: '* * * * * *', type: 'noop', payload: {} });
    expect(created.status).toBe(201);
    await waitFor(
      async () => {
        const response = await apiFetch(`${baseUrl}/tasks?schedule=cluster-every-second&status=completed&limit=10`);
        const page = (await response.json()) as { items: TaskView[] };
        return page.items.length >= 2;
      },
      { timeoutMs: 15_000, description: 'two completed runs of the schedule' },
    );
    expect((await apiFetch(`${baseUrl}/schedules/cluster-every-second`, { method: 'DELETE' })).status).toBe(204);
  });

  it('limits the rate per key and the backlog per queue with their state in the cluster', async () => {
    // A queue no worker serves, so its backlog only grows; and a small request budget.
    const limited = await startApi({ QUEUE_PREFIX: `${prefix}-limits`, MAX_BACKLOG: '0,report=2', RATE_LIMIT_REQUESTS: '4', RATE_LIMIT_WINDOW_MS: '60000' });
    const statuses: number[] = [];
    const retryAfter: Array<string | null> = [];
    for (let i = 0; i < 5; i++) {
      const answer = await post(limited, '/submit-task', { type: 'report', payload: {} });
      statuses.push(answer.status);
      retryAfter.push(answer.headers.get('retry-after'));
    }
    // Two fit the backlog and the next two are refused by it; the fifth request is over the rate.
    expect(statuses).toEqual([202, 202, 503, 503, 429]);
    expect(retryAfter.slice(2).every((value) => value !== null)).toBe(true);
    await deleteRedisPrefix(`${prefix}-limits`);
  });

  it('shows the queues in Bull Board with their counts', async () => {
    const auth = `Basic ${Buffer.from(`${board.BOARD_ADMIN_USER}:${board.BOARD_ADMIN_PASSWORD}`).toString('base64')}`;
    const response = await fetch(`${baseUrl}/admin/queues/api/queues?activeQueue=%7Bnoop%7D&page=1&jobsPerPage=10`, { headers: { authorization: auth } });
    expect(response.status).toBe(200);
    const { queues } = (await response.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
    expect(queues.map((queue) => queue.name)).toEqual(expect.arrayContaining(['{noop}', '{sleep}', '{dead-letter}']));
    expect(queues.find((queue) => queue.name === '{noop}')?.counts['completed']).toBeGreaterThan(0);
  });
});
