import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { TaskView } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, queryDatabase, TEST_REDIS_URL, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * SIGTERM with real processes: a worker finishes its running job before it exits; a job still
 * running at the worker's deadline is handed to another worker without spending an attempt; a
 * worker that dies outright leaves its job to another once the lock expires; the API finishes
 * the requests it accepted and loses none of their tasks.
 */
const db = testDatabase('e2e_shutdown');
const prefix = uniquePrefix('e2e-shutdown');
const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };

let api: AppProcess | undefined;
let baseUrl: string;
const workers: AppProcess[] = [];

async function startApi(): Promise<AppProcess> {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const process = startBuiltApp('api', { ...env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/health/ready`, process);
  return process;
}

/** A worker serving only `sleep`, one job at a time; resolves once it serves its queue. */
async function startWorker(workerId: string, extraEnv: Record<string, string> = {}): Promise<AppProcess> {
  const worker = startBuiltApp('worker', {
    ...env,
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    WORKER_ID: workerId,
    WORKER_QUEUES: 'sleep',
    WORKER_CONCURRENCY: 'sleep=1',
    ...extraEnv,
  });
  workers.push(worker);
  await waitFor(() => worker.child.exitCode !== null || worker.output().includes(`taskq worker ${workerId} started`), {
    timeoutMs: 30_000,
    description: `worker ${workerId} started`,
  });
  if (worker.child.exitCode !== null) throw new Error(`worker ${workerId} exited with ${worker.child.exitCode}:\n${worker.output()}`);
  return worker;
}

async function submit(body: unknown): Promise<string> {
  const response = await apiFetch(`${baseUrl}/submit-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as { id?: string };
  if (response.status !== 202 || !json.id) throw new Error(`submit answered ${response.status}: ${JSON.stringify(json)}`);
  return json.id;
}

async function getTask(id: string): Promise<TaskView> {
  const response = await apiFetch(`${baseUrl}/tasks/${id}`);
  if (response.status !== 200) throw new Error(`GET /tasks/${id} answered ${response.status}`);
  return (await response.json()) as TaskView;
}

const runningOn = (id: string, workerId?: string): Promise<TaskView> =>
  waitFor(
    async () => {
      const task = await getTask(id);
      const running = task.attempts.find((attempt) => attempt.outcome === 'running');
      return running && (workerId === undefined || running.workerId === workerId) ? task : undefined;
    },
    { timeoutMs: 20_000, description: `task ${id} running${workerId ? ` on ${workerId}` : ''}` },
  );

/** Each test brings its own workers: idle ones from an earlier test would take its jobs. */
async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
}

const finished = (id: string, timeoutMs = 30_000): Promise<TaskView> =>
  waitFor(
    async () => {
      const task = await getTask(id);
      return ['completed', 'dead', 'cancelled'].includes(task.status) ? task : undefined;
    },
    { timeoutMs, description: `task ${id} finished` },
  );

beforeAll(async () => {
  api = await startApi();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await api?.stop();
  await deleteRedisPrefix(prefix);
  await db.drop();
});

describe('graceful shutdown of a worker', () => {
  beforeEach(stopWorkers);

  it('finishes the 2-second job it runs when SIGTERM arrives, then exits 0; the task completes exactly once', async () => {
    const first = await startWorker('shutdown-finisher', { SHUTDOWN_TIMEOUT_MS: '10000' });
    const id = await submit({ type: 'sleep', payload: { ms: 2_000 }, maxAttempts: 1 });
    await runningOn(id, 'shutdown-finisher');
    // Another worker stands by: if the job were released or redelivered, it would run it again.
    await startWorker('shutdown-bystander', { SHUTDOWN_TIMEOUT_MS: '10000' });

    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited()).toBe(0);
    const exitedAt = Date.now();

    const task = await finished(id);
    expect(task.status).toBe('completed');
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]).toMatchObject({ number: 1, workerId: 'shutdown-finisher', outcome: 'completed' });
    expect(task.attempts[0]?.durationMs).toBeGreaterThanOrEqual(2_000);
    // It exited after the job was recorded, not before.
    expect(new Date(task.finishedAt ?? 0).getTime()).toBeLessThanOrEqual(exitedAt);
    expect(exitedAt - signalledAt).toBeLessThan(10_000);
    expect(first.output()).not.toMatch(/handing \d+ running attempt/);
  });

  it('hands a job still running at the deadline to another worker, without spending an attempt', async () => {
    const leaving = await startWorker('shutdown-leaving', { SHUTDOWN_TIMEOUT_MS: '500' });
    // maxAttempts 1: had the interrupted attempt counted, the task could not run again.
    const id = await submit({ type: 'sleep', payload: { ms: 4_000 }, maxAttempts: 1 });
    await runningOn(id, 'shutdown-leaving');
    await startWorker('shutdown-heir', { SHUTDOWN_TIMEOUT_MS: '10000' });

    const signalledAt = Date.now();
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited()).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(4_000);
    expect(leaving.output()).toMatch(/handing 1 running attempt\(s\) back to the queue/);

    const task = await finished(id);
    expect(task.status).toBe('completed');
    expect(task.maxAttempts).toBe(1);
    expect(task.attempts.map((attempt) => [attempt.number, attempt.workerId, attempt.outcome])).toEqual([
      [1, 'shutdown-leaving', 'interrupted'],
      [2, 'shutdown-heir', 'completed'],
    ]);
  });

  it('leaves the job of a worker killed outright to another worker once its lock expires', async () => {
    const lock = { WORKER_LOCK_DURATION_MS: '2000' };
    const doomed = await startWorker('shutdown-doomed', lock);
    const id = await submit({ type: 'sleep', payload: { ms: 3_000 }, maxAttempts: 2 });
    await runningOn(id, 'shutdown-doomed');
    await startWorker('shutdown-survivor', lock);

    doomed.child.kill('SIGKILL');
    await doomed.exited();

    const task = await finished(id, 30_000);
    expect(task.status).toBe('completed');
    // The killed run is on record, as lost, and charged to the budget (one of two): unlike a
    // shutdown, a crash may be the task's own doing, and a task that kills every worker must end.
    expect(task.attempts.map((attempt) => [attempt.number, attempt.workerId, attempt.outcome])).toEqual([
      [1, 'shutdown-doomed', 'lost'],
      [2, 'shutdown-survivor', 'completed'],
    ]);
  });
});

describe('graceful shutdown of the API', () => {
  it('answers the requests it accepted and loses none of their tasks, then exits 0', async () => {
    const inflight: Array<Promise<{ status: number; id?: string } | { error: string }>> = [];
    const fire = (): void => {
      inflight.push(
        apiFetch(`${baseUrl}/submit-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'noop', payload: {} }) })
          .then(async (response) => ({ status: response.status, id: ((await response.json()) as { id?: string }).id }))
          .catch((error: Error) => ({ error: error.message })),
      );
    };
    for (let i = 0; i < 200; i++) fire();
    // SIGTERM as soon as the first answer is back: the rest are in flight or not yet sent.
    await Promise.race(inflight);
    const apiProcess = api;
    if (!apiProcess) throw new Error('no api');
    apiProcess.child.kill('SIGTERM');
    for (let i = 0; i < 50; i++) fire();
    const results = await Promise.all(inflight);
    expect(await apiProcess.exited()).toBe(0);
    api = undefined;

    const accepted = results.flatMap((result) => ('status' in result && result.status === 202 && result.id ? [result.id] : []));
    const statuses = new Set(results.map((result) => ('status' in result ? result.status : 'refused')));
    expect(accepted.length).toBeGreaterThan(0);
    // Answered (202), turned away while closing (503), or never connected: nothing else.
    expect([...statuses].every((status) => status === 202 || status === 503 || status === 'refused')).toBe(true);

    const stored = await queryDatabase<{ id: string }>(db.url, 'SELECT id FROM tasks WHERE id = ANY($1::uuid[])', [accepted]);
    expect(stored).toHaveLength(accepted.length);
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('{noop}', { connection, prefix });
    try {
      const jobs = await Promise.all(accepted.map((id) => queue.getJob(id)));
      expect(jobs.filter((job) => job === undefined)).toHaveLength(0);
    } finally {
      await queue.close();
      await connection.quit();
    }
  });
});
