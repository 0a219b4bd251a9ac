import type { TaskView } from '@taskq/contracts';
import { apiFetch, queryDatabase, startSuiteRedis, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess, type SuiteRedis } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * Redis restarts empty under the running stack (built api, monitor and workers): every task the
 * API had accepted still completes, because the monitor's reconciler queues again whatever
 * PostgreSQL says is unfinished — tasks that waited for a worker, a delayed one, and one whose
 * worker died while running it.
 */
describe('reconciler: Redis restarts empty under the running stack', () => {
  const db = testDatabase('e2e_reconciler');
  const prefix = uniquePrefix('e2e-reconciler');
  let redis: SuiteRedis;
  let env: Record<string, string>;
  let api: AppProcess | undefined;
  let monitor: AppProcess | undefined;
  const workers: AppProcess[] = [];
  let baseUrl: string;

  async function post<T>(path: string, body: unknown): Promise<T> {
    const response = await apiFetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await response.json()) as T;
    if (response.status !== 202 && response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  }

  async function getTask(id: string): Promise<TaskView> {
    const response = await apiFetch(`${baseUrl}/tasks/${id}`);
    if (response.status !== 200) throw new Error(`GET /tasks/${id} answered ${response.status}`);
    return (await response.json()) as TaskView;
  }

  async function startWorker(workerId: string, extraEnv: Record<string, string> = {}): Promise<AppProcess> {
    const worker = startBuiltApp('worker', { ...env, LOG_LEVEL: 'info', METRICS_PORT: '0', WORKER_ID: workerId, SHUTDOWN_TIMEOUT_MS: '2000', ...extraEnv });
    workers.push(worker);
    await waitFor(() => worker.child.exitCode !== null || worker.output().includes(`taskq worker ${workerId} started`), {
      timeoutMs: 30_000,
      description: `worker ${workerId} started`,
    });
    if (worker.child.exitCode !== null) throw new Error(`worker ${workerId} exited with ${worker.child.exitCode}:\n${worker.output()}`);
    return worker;
  }

  /** The counts of every "re-queued N tasks" line the monitor logged so far. */
  const requeuedByMonitor = (): number =>
    [...(monitor?.output() ?? '').matchAll(/reconciler repaired .*; re-queued (\d+) tasks/g)].reduce((sum, match) => sum + Number(match[1]), 0);

  beforeAll(async () => {
    redis = await startSuiteRedis();
    env = { DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    api = startBuiltApp('api', { ...env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' });
    await waitForHttp(`${baseUrl}/health/ready`, api);
    monitor = startBuiltApp('monitor', { ...env, LOG_LEVEL: 'info', METRICS_PORT: '-1', RECONCILE_INTERVAL_MS: '500', RECONCILE_GRACE_MS: '1000' });
    await waitFor(() => monitor?.output().includes('taskq monitor started'), { timeoutMs: 30_000, description: 'the monitor started' });
  });

  afterAll(async () => {
    await Promise.all([api, monitor, ...workers].map((app) => app?.stop()));
    await redis?.stop();
    await db.drop();
  });

  it('every accepted task completes: the ones waiting for a worker, a delayed one, and one whose worker died with the data', async () => {
    // A task running on a worker that is then killed: PostgreSQL says active, and its job dies with Redis.
    const doomed = await startWorker('reconciler-doomed', { WORKER_QUEUES: 'sleep' });
    const { id: lostId } = await post<{ id: string }>('/submit-task', { type: 'sleep', payload: { ms: 1_500 }, maxAttempts: 1, timeoutMs: 2_000 });
    await waitFor(async () => (await getTask(lostId)).attempts.some((attempt) => attempt.outcome === 'running'), { timeoutMs: 20_000, description: 'the sleep task running' });
    doomed.child.kill('SIGKILL');
    await doomed.exited();

    // Accepted while no worker runs: their jobs wait in Redis.
    const bulk = await post<{ tasks: Array<{ id: string }> }>('/tasks/bulk', {
      tasks: [
        ...Array.from({ length: 30 }, (_, i) => ({ type: 'noop', payload: {}, ...(i % 10 === 0 ? { priority: 1 + i } : {}) })),
        { type: 'sleep', payload: { ms: 10 }, maxAttempts: 2 },
      ],
    });
    const delayed = await post<{ id: string; status: string }>('/submit-task', { type: 'noop', payload: {}, delayMs: 4_000 });
    expect(delayed.status).toBe('delayed');
    const accepted = [lostId, ...bulk.tasks.map((task) => task.id), delayed.id];
    expect(accepted).toHaveLength(33);
    expect(requeuedByMonitor()).toBe(0);

    // Redis restarts without its data where it was (a cluster: every node): every process reconnects to an empty one.
    await redis.restartEmpty();

    await waitFor(() => requeuedByMonitor() === accepted.length, { timeoutMs: 20_000, description: `the monitor re-queued ${accepted.length} tasks` });
    await startWorker('reconciler-heir');

    const statuses = await waitFor(
      async () => {
        const rows = await queryDatabase<{ status: string; n: number }>(db.url, 'SELECT status, count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) GROUP BY status', [accepted]);
        return rows.length === 1 && rows[0]?.status === 'completed' ? rows : undefined;
      },
      { timeoutMs: 30_000, description: 'every accepted task completed' },
    );
    expect(statuses).toEqual([{ status: 'completed', n: 33 }]);

    // The lost attempt cost nothing: with maxAttempts 1 the task still ran again, once.
    const lost = await getTask(lostId);
    expect(lost.maxAttempts).toBe(1);
    expect(lost.attempts.map((attempt) => [attempt.number, attempt.workerId, attempt.outcome])).toEqual([
      [1, 'reconciler-doomed', 'interrupted'],
      [2, 'reconciler-heir', 'completed'],
    ]);
    // The delayed task kept its run time, and every other task ran once.
    const late = await getTask(delayed.id);
    expect(new Date(late.startedAt ?? 0).getTime()).toBeGreaterThanOrEqual(new Date(late.createdAt).getTime() + 4_000);
    const [{ attempts } = { attempts: -1 }] = await queryDatabase<{ attempts: number }>(db.url, 'SELECT count(*)::int AS attempts FROM task_attempts WHERE task_id = ANY($1::uuid[])', [accepted]);
    expect(attempts).toBe(accepted.length + 1);
    // Each task was re-queued by one run only, and nothing more since.
    expect(requeuedByMonitor()).toBe(accepted.length);
  });
});
