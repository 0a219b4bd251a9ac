import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import type { TaskPage, TaskView } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, TEST_REDIS_URL, testRedisClient, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { freePort, startBuiltApp } from './support/built-apps';

/**
 * A task's life across real processes (one api, two workers), over HTTP: retries with growing
 * backoff, the dead-letter queue and its requeue, cancellation of a running attempt on
 * whichever worker runs it, and a dead-letter queue that outlives the loss of Redis's data.
 */
const db = testDatabase('e2e_lifecycle');
const prefix = uniquePrefix('e2e-lifecycle');
const WORKER_IDS = ['e2e-lifecycle-a', 'e2e-lifecycle-b'] as const;
const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };

let api: AppProcess;
const workers: AppProcess[] = [];
let baseUrl: string;

// The webhook target: each path behaves as one test needs, and every request is recorded.
let hookServer: Server;
let hookBase: string;
const hookRequests: Array<{ path: string; at: number }> = [];
const flakyAnswers = [500, 500, 200];
/** `/toggle/<name>` answers 500 until <name> is added here, then 200. */
const healthyTargets = new Set<string>();
const requestsTo = (path: string): number => hookRequests.filter((r) => r.path === path).length;

const TERMINAL = ['completed', 'dead', 'cancelled'];

async function startApi(): Promise<void> {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = startBuiltApp('api', { ...env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/health/ready`, api);
}

async function submit(body: unknown): Promise<string> {
  const response = await apiFetch(`${baseUrl}/submit-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as { id?: string };
  if (response.status !== 202 || !json.id) throw new Error(`submit answered ${response.status}: ${JSON.stringify(json)}`);
  return json.id;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await apiFetch(`${baseUrl}${path}`);
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  return (await response.json()) as T;
}

const getTask = (id: string): Promise<TaskView> => getJson<TaskView>(`/tasks/${id}`);

async function until(id: string, statuses: string[], timeoutMs = 20_000): Promise<TaskView> {
  // Any terminal status ends the wait: a wrong one fails at once instead of at the deadline.
  const task = await waitFor(
    async () => {
      const current = await getTask(id);
      return statuses.includes(current.status) || TERMINAL.includes(current.status) ? current : undefined;
    },
    { timeoutMs, description: `task ${id} ${statuses.join('/')}` },
  );
  if (!statuses.includes(task.status)) throw new Error(`task ${id} ended ${task.status} (${task.lastError ?? 'no error'}), not ${statuses.join('/')}`);
  return task;
}

/** Polls for `ms` and fails as soon as `holds` does not: "nothing happens" observed, not assumed. */
async function keepsHolding(ms: number, holds: () => Promise<boolean>, description: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await holds())) throw new Error(`no longer true: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A BullMQ queue of this file's prefix, opened for inspection and closed after. */
async function inspectQueue<T>(name: string, inspect: (queue: Queue) => Promise<T>): Promise<T> {
  const connection = testRedisClient(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  try {
    return await inspect(queue);
  } finally {
    await queue.close();
    await connection.quit();
  }
}

/** A webhook task that fails twice against `/toggle/<name>` (500) and ends in the dead-letter queue. */
async function deadLetter(name: string): Promise<TaskView> {
  const id = await submit({
    type: 'webhook',
    payload: { url: `${hookBase}/toggle/${name}` },
    maxAttempts: 2,
    backoff: { type: 'exponential', delayMs: 50, maxDelayMs: 1_000, jitter: 'none' },
  });
  const dead = await until(id, ['dead']);
  expect(dead.lastError).toMatch(/answered 500/);
  expect(dead.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed']);
  return dead;
}

/**
 * Clean-up for the cancel test while POST /cancel does not reach the workers: aborts a still
 * running attempt the way the API should (the workers' cancel channel), so they can stop.
 */
async function stopIfStillRunning(id: string): Promise<void> {
  const running = async (): Promise<boolean> => (await getTask(id)).attempts.some((a) => a.outcome === 'running');
  if (!(await running())) return;
  const redis = testRedisClient(TEST_REDIS_URL);
  try {
    await waitFor(
      async () => {
        await redis.publish(`${prefix}:cancel`, id);
        return !(await running());
      },
      { timeoutMs: 10_000, intervalMs: 200, description: `attempt of ${id} aborted for clean-up` },
    );
  } finally {
    await redis.quit();
  }
}

/** Observed timings, printed when E2E_FIGURES is set. */
const figure = (line: string): void => {
  if (process.env['E2E_FIGURES']) console.info(line);
};

const ms = (iso: string | null): number => {
  if (iso === null) throw new Error('expected a time, got null');
  return new Date(iso).getTime();
};

beforeAll(async () => {
  hookServer = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    hookRequests.push({ path, at: Date.now() });
    request.resume();
    let status = 404;
    if (path === '/flaky') status = flakyAnswers[requestsTo('/flaky') - 1] ?? 200;
    if (path.startsWith('/toggle/')) status = healthyTargets.has(path.slice('/toggle/'.length)) ? 200 : 500;
    if (path === '/gone') status = 410;
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ path, status }));
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  const address = hookServer.address();
  hookBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  await startApi();
  for (const workerId of WORKER_IDS) {
    workers.push(
      startBuiltApp('worker', {
        ...env,
        // info: the start-up line tells when the worker serves its queues.
        LOG_LEVEL: 'info',
        METRICS_PORT: '0',
        WORKER_ID: workerId,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        // One sleep at a time per worker: two sleeps at once must land on both workers.
        WORKER_CONCURRENCY: 'sleep=1',
        // Never hold the clean-up past AppProcess.stop's grace period.
        SHUTDOWN_TIMEOUT_MS: '5000',
      }),
    );
  }
  await Promise.all(
    workers.map((worker, index) =>
      waitFor(() => worker.child.exitCode !== null || worker.output().includes(`taskq worker ${WORKER_IDS[index]} started`), {
        timeoutMs: 30_000,
        description: `worker ${WORKER_IDS[index]} started`,
      }).then(() => {
        if (worker.child.exitCode !== null) throw new Error(`worker ${WORKER_IDS[index]} exited with ${worker.child.exitCode}:\n${worker.output()}`);
      }),
    ),
  );
});

afterAll(async () => {
  const codes = await Promise.all([...workers.map((worker) => worker.stop()), api?.stop()]);
  await new Promise<void>((resolve) => hookServer?.close(() => resolve()));
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual([0, 0, 0]);
});

describe('task lifecycle across api and worker processes', () => {
  it('retries a failing webhook with growing exponential backoff until it succeeds', async () => {
    const id = await submit({
      type: 'webhook',
      payload: { url: `${hookBase}/flaky`, method: 'POST', body: { n: 1 } },
      maxAttempts: 5,
      backoff: { type: 'exponential', delayMs: 200, maxDelayMs: 10_000, jitter: 'none' },
    });

    // Watch it closely: between attempts it must show `retrying` with the time of its next attempt.
    const retrying: Array<{ seenAt: number; task: TaskView }> = [];
    const task = await waitFor(
      async () => {
        const seenAt = Date.now();
        const current = await getTask(id);
        if (current.status === 'retrying') retrying.push({ seenAt, task: current });
        return TERMINAL.includes(current.status) ? current : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 10, description: `task ${id} finished` },
    );

    expect(task.status).toBe('completed');
    expect(task.result).toMatchObject({ status: 200 });
    expect(task.attempts.map((a) => [a.number, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'completed'],
    ]);
    expect(task.attempts[0]?.error).toMatch(/answered 500/);
    expect(task.attempts[1]?.error).toMatch(/answered 500/);
    expect(task.attemptsMade).toBe(3);
    expect(task.nextAttemptAt).toBeNull();
    expect(hookRequests.filter((r) => r.path === '/flaky')).toHaveLength(3);

    const [a1, a2, a3] = task.attempts as [TaskView['attempts'][number], TaskView['attempts'][number], TaskView['attempts'][number]];
    const gap1 = ms(a2.startedAt) - ms(a1.finishedAt);
    const gap2 = ms(a3.startedAt) - ms(a2.finishedAt);
    // Lower bounds only: a delayed BullMQ job is promoted some milliseconds after it is due.
    expect(gap1).toBeGreaterThanOrEqual(195);
    expect(gap2).toBeGreaterThanOrEqual(395);
    expect(gap2).toBeGreaterThan(gap1);
    figure(`backoff gaps: gap1 ${gap1} ms, gap2 ${gap2} ms; retrying seen ${retrying.length}×`);

    // Caught between attempts: `retrying`, with a future next-attempt time set by the policy (200 ms, then 400 ms).
    expect(retrying.length).toBeGreaterThan(0);
    expect(retrying.some(({ seenAt, task: t }) => t.nextAttemptAt !== null && ms(t.nextAttemptAt) > seenAt)).toBe(true);
    for (const { task: t } of retrying) {
      const failed = t.attempts.filter((a) => a.outcome === 'failed');
      const last = t.attempts[t.attempts.length - 1];
      expect(last?.outcome).toBe('failed');
      expect(ms(t.nextAttemptAt) - ms(last?.finishedAt ?? null)).toBe(200 * 2 ** (failed.length - 1));
      expect(t.lastError).toMatch(/answered 500/);
    }
  });

  it('sends a task whose attempts are spent to the dead-letter queue, with its last error and history', async () => {
    const dead = await deadLetter('dlq-listing');
    expect(dead.finishedAt).not.toBeNull();

    const dlq = await getJson<TaskPage>('/dlq');
    expect(dlq.items).toContainEqual(expect.objectContaining({ id: dead.id, type: 'webhook', status: 'dead', lastError: dead.lastError }));
    const letter = await getJson<TaskView>(`/dlq/${dead.id}`);
    expect(letter.lastError).toMatch(/answered 500/);
    expect(letter.attempts.map((a) => [a.number, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
    expect(letter.attempts.every((a) => a.error?.includes('answered 500'))).toBe(true);
    expect(requestsTo('/toggle/dlq-listing')).toBe(2);
  });

  // TaskStore.requeueTasks reads DataSource.query()'s result as rows, but for an UPDATE TypeORM returns [rows, rowCount].
  it('a requeued dead task runs again and completes', async () => {
    const dead = await deadLetter('dlq-requeue');
    const id = dead.id;
    healthyTargets.add('dlq-requeue');

    // 409 means "the worker is still letting go of the job": the API asks to retry in a moment.
    const requeue = await waitFor(
      async () => {
        const response = await apiFetch(`${baseUrl}/dlq/${id}/requeue`, { method: 'POST' });
        return response.status === 409 ? undefined : response;
      },
      { timeoutMs: 10_000, description: `requeue of ${id} accepted` },
    );
    expect(requeue.status).toBe(202);
    expect(await requeue.json()).toMatchObject({ id, status: 'queued' });

    const done = await until(id, ['completed']);
    expect(done.attempts.map((a) => [a.number, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'completed'],
    ]);
    expect(done.result).toMatchObject({ status: 200 });
    expect(done.attemptsMade).toBe(3);
    expect(requestsTo('/toggle/dlq-requeue')).toBe(3);

    expect((await getJson<TaskPage>('/dlq')).items.map((item) => item.id)).not.toContain(id);
    expect((await apiFetch(`${baseUrl}/dlq/${id}`)).status).toBe(404);
    expect(await inspectQueue('{dead-letter}', (queue) => queue.getJob(id))).toBeUndefined();
  });

  // TaskStore.cancelTask: same misread, so it answers "already finished" after it has cancelled the task, and never signals the worker.
  it('cancels a running task on whichever worker runs it, and both workers keep working', async () => {
    const id = await submit({ type: 'sleep', payload: { ms: 20_000 } });
    try {
      const running = await waitFor(
        async () => {
          const task = await getTask(id);
          return task.status === 'active' && task.attempts[0]?.outcome === 'running' ? task : undefined;
        },
        { timeoutMs: 20_000, description: `task ${id} running` },
      );
      const runningOn = running.attempts[0]?.workerId;
      expect(WORKER_IDS).toContain(runningOn);

      const cancelledAt = Date.now();
      const cancel = await apiFetch(`${baseUrl}/tasks/${id}/cancel`, { method: 'POST' });
      expect({ status: cancel.status, body: (await cancel.json()) as unknown }).toEqual({ status: 200, body: { id, status: 'cancelled', previousStatus: 'active' } });

      const ended = await waitFor(
        async () => {
          const task = await getTask(id);
          return task.attempts[0]?.outcome !== 'running' ? task : undefined;
        },
        { timeoutMs: 15_000, description: `attempt of ${id} ended` },
      );
      const stoppedAfter = Date.now() - cancelledAt;
      expect(ended.status).toBe('cancelled');
      expect(ended.attempts).toEqual([expect.objectContaining({ number: 1, workerId: runningOn, outcome: 'cancelled', error: 'cancelled while running' })]);
      expect(ended.attempts[0]?.durationMs).toBeLessThan(15_000);
      expect(stoppedAfter).toBeLessThan(10_000);
      const worker = workers[WORKER_IDS.indexOf(runningOn as (typeof WORKER_IDS)[number])];
      expect(worker?.output()).toContain(`task ${id}: cancelled while running, attempt aborted`);
      figure(`cancel: attempt on ${runningOn} ended ${stoppedAfter} ms after POST /cancel (durationMs ${ended.attempts[0]?.durationMs})`);

      // The worker acknowledged the job as failed (no BullMQ retry), and no new attempt starts.
      await waitFor(() => inspectQueue('{sleep}', (queue) => queue.getJobState(id)).then((state) => state === 'failed'), {
        timeoutMs: 10_000,
        description: `job ${id} failed in BullMQ`,
      });
      await keepsHolding(
        400,
        async () => {
          const task = await getTask(id);
          return task.status === 'cancelled' && task.attempts.length === 1;
        },
        `task ${id} stays cancelled with one attempt`,
      );
      expect((await apiFetch(`${baseUrl}/tasks/${id}/cancel`, { method: 'POST' })).status).toBe(409);

      // Both workers still run work: two sleeps at once (one per worker, concurrency 1) and a noop.
      const sleeps = [await submit({ type: 'sleep', payload: { ms: 500 } }), await submit({ type: 'sleep', payload: { ms: 500 } })];
      const noop = await submit({ type: 'noop', payload: { note: 'after cancel' } });
      const finished = await Promise.all([...sleeps, noop].map((taskId) => until(taskId, ['completed'])));
      expect(finished.map((task) => task.status)).toEqual(['completed', 'completed', 'completed']);
      expect(new Set(finished.slice(0, 2).map((task) => task.attempts[0]?.workerId))).toEqual(new Set(WORKER_IDS));
      expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
    } finally {
      await stopIfStillRunning(id);
    }
  });

  // TaskStore.deleteTasks: DELETE … RETURNING comes back as [rows, rowCount], so "nothing deleted" is never seen.
  it('DELETE /dlq/:id answers 404 for a task that is not dead', async () => {
    const id = await submit({ type: 'noop', payload: { note: 'not dead' } });
    await until(id, ['completed']);
    const response = await apiFetch(`${baseUrl}/dlq/${id}`, { method: 'DELETE' });
    expect((await getTask(id)).status).toBe('completed');
    expect(response.status).toBe(404);
  });

  it('keeps dead letters through a loss of Redis data and rebuilds the mirror queue when the api restarts', async () => {
    const id = await submit({ type: 'webhook', payload: { url: `${hookBase}/gone` }, maxAttempts: 3 });
    const dead = await until(id, ['dead']);
    expect(dead.attempts).toHaveLength(1);
    expect(dead.lastError).toMatch(/answered 410/);
    // The worker has finished with Redis: the job is failed and the mirror lists the dead task.
    await waitFor(() => inspectQueue('{webhook}', (queue) => queue.getJobState(id)).then((state) => state === 'failed'), {
      timeoutMs: 10_000,
      description: `job ${id} failed in BullMQ`,
    });
    expect(await inspectQueue('{dead-letter}', async (queue) => (await queue.getJob(id))?.data)).toMatchObject({ taskId: id });

    await deleteRedisPrefix(prefix);
    expect(await inspectQueue('{dead-letter}', (queue) => queue.getJob(id))).toBeUndefined();

    // PostgreSQL is the record: the DLQ still lists it.
    expect((await getJson<TaskPage>('/dlq')).items).toContainEqual(expect.objectContaining({ id, status: 'dead', lastError: dead.lastError }));
    expect((await getJson<TaskView>(`/dlq/${id}`)).attempts).toHaveLength(1);

    // A new api process on the same database and prefix re-mirrors it into Redis.
    expect(await api.stop()).toBe(0);
    await startApi();
    const mirrored = await waitFor(() => inspectQueue('{dead-letter}', (queue) => queue.getJob(id)), {
      timeoutMs: 10_000,
      description: `dead-letter mirror job ${id}`,
    });
    expect(mirrored.data).toEqual({ taskId: id, type: 'webhook', error: dead.lastError, task: `/tasks/${id}` });
    expect((await getJson<TaskPage>('/dlq')).items.map((item) => item.id)).toContain(id);
  });
});

describe('clearing the dead-letter queue (an api process of its own: the bug leaves it looping)', () => {
  // TaskStore.deleteTasks: [rows, rowCount] always has length 2, so TaskLifecycleService.deleteDeadMatching never sees an empty chunk.
  it('DELETE /dlq answers the count of deleted dead tasks', async () => {
    const ownDb = testDatabase('e2e_lifecycle_clear');
    const ownPrefix = uniquePrefix('e2e-lifecycle-clear');
    const port = await freePort();
    const ownApi = startBuiltApp('api', { ...env, DATABASE_URL: ownDb.url, QUEUE_PREFIX: ownPrefix, LOG_LEVEL: 'error', PORT: String(port), HOST: '127.0.0.1' });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, ownApi);
      const response = await apiFetch(`http://127.0.0.1:${port}/dlq`, { method: 'DELETE', signal: AbortSignal.timeout(2_000) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ count: 0 });
    } finally {
      const code = await ownApi.stop();
      await deleteRedisPrefix(ownPrefix);
      await ownDb.drop();
      expect(code).toBe(0);
    }
  });
});
