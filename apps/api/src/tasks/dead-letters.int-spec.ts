import type { CountResponse, SubmitTaskResponse, TaskPage, TaskView } from '@taskq/contracts';
import { DeadLetterMirror } from '@taskq/queue';
import { deleteRedisPrefix, queryDatabase, waitFor } from '@taskq/testing';
import { DeadLettersController } from './dead-letters.controller';
import { FailingEndpoint } from './testing/failing-endpoint';
import { PROBLEM_JSON, attemptRows, send, startApi, taskRow, waitForStatus, type TaskRow } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(30_000);

interface DeadTask {
  id: string;
  type: 'sleep' | 'webhook';
  /** The webhook's path on the failing endpoint. */
  path?: string;
  row: TaskRow;
}

/**
 * The dead-letter queue with tasks made dead for real by a worker process: `sleep` tasks
 * that outlive a 100 ms deadline on their only attempt, and webhooks to a local endpoint that
 * answers 500 until the test heals it. Tests run in order on one database: the last ones
 * (requeue all, mirror rebuild, clear all) act on the dead tasks the earlier ones left.
 */
describe(DeadLettersController.name, () => {
  const api = useApiHarness({ label: 'dead_letters', worker: { WORKER_QUEUES: 'sleep,webhook,noop', WEBHOOK_ALLOW_PRIVATE: 'true' } });
  const endpoint = new FailingEndpoint();
  let mirror: DeadLetterMirror;

  const submit = async (body: Record<string, unknown>): Promise<string> => {
    const response = await send(api.app, 'POST', '/tasks', body);
    expect(response.statusCode).toBe(202);
    return response.json<SubmitTaskResponse>().id;
  };

  /** Until the worker has let go of the job too: BullMQ holds it as failed (a requeue before that is refused with 409). */
  const jobFailed = (type: DeadTask['type'], id: string): Promise<true> =>
    waitFor(async () => (await api.producer.queue(type).getJobState(id)) === 'failed', { description: `job ${id} failed in BullMQ` });

  /** One task, dead by the time this resolves. Deaths made one after another are strictly ordered in time. */
  const makeDead = async (type: DeadTask['type']): Promise<DeadTask> => {
    const path = endpoint.newPath();
    const id =
      type === 'sleep'
        ? await submit({ type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 1 })
        : await submit({ type: 'webhook', payload: { url: endpoint.url(path) }, maxAttempts: 2, backoff: { delayMs: 10, maxDelayMs: 10 } });
    const row = await waitForStatus(api.db.url, id, 'dead');
    await jobFailed(type, id);
    return { id, type, path: type === 'webhook' ? path : undefined, row };
  };

  const makeCompleted = async (): Promise<string> => {
    const id = await submit({ type: 'noop', payload: {} });
    await waitForStatus(api.db.url, id, 'completed');
    return id;
  };

  const list = async (query: string): Promise<TaskPage> => {
    const response = await send(api.app, 'GET', `/dlq?${query}`);
    expect(response.statusCode).toBe(200);
    return response.json<TaskPage>();
  };

  const deadIds = async (): Promise<string[]> =>
    (await queryDatabase<{ id: string }>(api.db.url, `SELECT id FROM tasks WHERE status = 'dead' ORDER BY id`)).map((row) => row.id);

  /** Waits until the task is dead again with `attempts` attempts recorded in all, and its job failed again. */
  const deadAgain = async (id: string, attempts: number): Promise<TaskRow> => {
    const row = await waitFor(
      async () => {
        const current = await taskRow(api.db.url, id);
        return current?.status === 'dead' && current.attempts_made === attempts && current;
      },
      { timeoutMs: 10_000, description: `task ${id} dead again after ${attempts} attempts` },
    );
    await jobFailed(row.type as DeadTask['type'], id);
    return row;
  };

  beforeAll(async () => {
    await endpoint.start();
    mirror = new DeadLetterMirror(api.redis, api.prefix);
    api.onClose(() => mirror.close());
  });

  afterAll(() => endpoint.stop());

  describe('reading the dead-letter queue', () => {
    const dead: DeadTask[] = [];
    let completedId: string;
    let queuedId: string;
    let since: string;

    const nth = (index: number): DeadTask => {
      const task = dead[index];
      if (!task) throw new Error(`no dead task ${index}`);
      return task;
    };
    const diedAt = (index: number): string => {
      const at = nth(index).row.finished_at;
      if (!at) throw new Error(`dead task ${index} has no finished_at`);
      return at.toISOString();
    };

    beforeAll(async () => {
      since = new Date(Date.now() - 1).toISOString();
      for (const type of ['sleep', 'webhook', 'sleep', 'webhook', 'sleep'] as const) dead.push(await makeDead(type));
      completedId = await makeCompleted();
      queuedId = await submit({ type: 'noop', payload: {}, delayMs: 60_000 });
    });

    it('lists dead tasks only, most recent death first, in cursor pages', async () => {
      const first = await list(`from=${since}&limit=2`);
      const second = await list(`from=${since}&limit=2&cursor=${first.nextCursor}`);
      const third = await list(`from=${since}&limit=2&cursor=${second.nextCursor}`);

      const newestFirst = dead.map((task) => task.id).reverse();
      expect(first.items.map((item) => item.id)).toEqual(newestFirst.slice(0, 2));
      expect(second.items.map((item) => item.id)).toEqual(newestFirst.slice(2, 4));
      expect(third.items.map((item) => item.id)).toEqual(newestFirst.slice(4));
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(third.nextCursor).toBeNull();
      expect([...first.items, ...second.items, ...third.items].every((item) => item.status === 'dead' && item.lastError !== null)).toBe(true);
      const all = await list(`from=${since}`);
      expect(all.items.map((item) => item.id)).not.toContain(completedId);
      expect(all.items.map((item) => item.id)).not.toContain(queuedId);
    });

    it('filters by type', async () => {
      const page = await list(`from=${since}&type=webhook`);

      expect(page.items.map((item) => item.id)).toEqual([nth(3).id, nth(1).id]);
    });

    it('filters by time of death: from inclusive, to exclusive', async () => {
      const from = diedAt(1);
      const to = diedAt(3);

      const page = await list(`from=${from}&to=${to}`);

      expect(page.items.map((item) => item.id)).toEqual([nth(2).id, nth(1).id]);
      expect((await list(`from=${from}&to=${to}&type=sleep`)).items.map((item) => item.id)).toEqual([nth(2).id]);
    });

    it.each(['from=yesterday', 'to=2025-02-30T00:00:00Z', 'limit=0', 'limit=101', 'cursor=garbage', 'colour=red'])('answers a 400 problem for %s', async (query) => {
      const response = await send(api.app, 'GET', `/dlq?${query}`);

      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    });

    it('shows a dead task with its last error and full attempt history', async () => {
      const webhook = nth(1);

      const response = await send(api.app, 'GET', `/dlq/${webhook.id}`);

      expect(response.statusCode).toBe(200);
      const failure = `POST ${endpoint.url(webhook.path ?? '')} answered 500: broken`;
      const task = response.json<TaskView>();
      expect(task).toMatchObject({ id: webhook.id, type: 'webhook', status: 'dead', lastError: failure, maxAttempts: 2, attemptsMade: 2, result: null });
      expect(task.attempts).toEqual([
        { number: 1, workerId: expect.any(String), startedAt: expect.any(String), finishedAt: expect.any(String), durationMs: expect.any(Number), outcome: 'failed', error: failure },
        { number: 2, workerId: expect.any(String), startedAt: expect.any(String), finishedAt: expect.any(String), durationMs: expect.any(Number), outcome: 'failed', error: failure },
      ]);
      expect((await send(api.app, 'GET', `/dlq/${nth(0).id}`)).json<TaskView>()).toMatchObject({
        lastError: 'timed out after 100 ms',
        attempts: [{ number: 1, outcome: 'timed_out', error: 'timed out after 100 ms' }],
      });
    });

    it('answers a 404 problem for a task that is not dead, and for an unknown id', async () => {
      for (const id of [completedId, queuedId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const response = await send(api.app, 'GET', `/dlq/${id}`);
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      }
    });

    it('mirrors every dead task as a job of the {dead-letter} queue', async () => {
      for (const task of dead) {
        const job = await mirror.queue.getJob(task.id);
        expect(job?.data).toEqual({ taskId: task.id, type: task.type, error: task.row.last_error, task: `/tasks/${task.id}` });
      }
      expect(await mirror.queue.getJob(completedId)).toBeUndefined();
    });
  });

  describe('POST /dlq/:id/requeue', () => {
    it('runs the task again with a fresh attempt budget, appending to its history, and takes it out of the DLQ', async () => {
      const { id, path } = await makeDead('webhook');

      // Still failing: the reset budget buys exactly two more attempts, numbered 3 and 4.
      const requeued = await send(api.app, 'POST', `/dlq/${id}/requeue`);
      expect({ status: requeued.statusCode, body: requeued.json<SubmitTaskResponse>() }).toMatchObject({ status: 202, body: { id, type: 'webhook', status: 'queued' } });
      await deadAgain(id, 4);
      expect((await attemptRows(api.db.url, id)).map((attempt) => [attempt.number, attempt.outcome])).toEqual([
        [1, 'failed'], [2, 'failed'], [3, 'failed'], [4, 'failed'],
      ]);
      await waitFor(() => mirror.queue.getJob(id), { description: 'the task is mirrored again once dead again' });

      // Healed: attempt 5 succeeds.
      endpoint.heal(path ?? '');
      expect((await send(api.app, 'POST', `/dlq/${id}/requeue`)).statusCode).toBe(202);
      const row = await waitForStatus(api.db.url, id, 'completed');

      expect(row).toMatchObject({ attempts_made: 5, max_attempts: 2 });
      const history = (await send(api.app, 'GET', `/tasks/${id}`)).json<TaskView>().attempts;
      expect(history.map((attempt) => [attempt.number, attempt.outcome])).toEqual([
        [1, 'failed'], [2, 'failed'], [3, 'failed'], [4, 'failed'], [5, 'completed'],
      ]);
      expect((await send(api.app, 'GET', `/dlq/${id}`)).statusCode).toBe(404);
      expect(await mirror.queue.getJob(id)).toBeUndefined();
    });

    it('answers a 404 problem for a task that is not dead, and for an unknown id', async () => {
      const completedId = await makeCompleted();

      for (const id of [completedId, '00000000-0000-4000-8000-000000000000']) {
        const response = await send(api.app, 'POST', `/dlq/${id}/requeue`);
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      }
      expect((await taskRow(api.db.url, completedId))?.status).toBe('completed');
    });

    it('answers 404, not 500, for an id that is not a UUID', async () => {
      expect((await send(api.app, 'POST', '/dlq/not-a-uuid/requeue')).statusCode).toBe(404);
    });
  });

  describe('POST /dlq/requeue', () => {
    it('requeues the dead tasks of one type and answers how many; the others stay dead', async () => {
      const since = new Date(Date.now() - 1).toISOString();
      const sleeps = [await makeDead('sleep'), await makeDead('sleep')];
      const webhook = await makeDead('webhook');

      const response = await send(api.app, 'POST', `/dlq/requeue?type=sleep&from=${since}`);

      expect({ status: response.statusCode, body: response.json<CountResponse>() }).toEqual({ status: 200, body: { count: 2 } });
      // They time out again on their new single attempt: attempt 2 of their history.
      for (const sleep of sleeps) {
        await deadAgain(sleep.id, 2);
        expect((await attemptRows(api.db.url, sleep.id)).map((attempt) => attempt.number)).toEqual([1, 2]);
      }
      expect(await taskRow(api.db.url, webhook.id)).toMatchObject({ status: 'dead', attempts_made: 2 });
    });
  });

  describe('POST /dlq/requeue without a filter', () => {
    it('requeues every dead task and answers how many; each runs again with a fresh budget', async () => {
      const before = await queryDatabase<{ id: string; attempts_made: number; max_attempts: number }>(
        api.db.url,
        `SELECT id, attempts_made, max_attempts FROM tasks WHERE status = 'dead'`,
      );
      expect(before.length).toBeGreaterThan(1);

      const response = await send(api.app, 'POST', '/dlq/requeue');

      expect({ status: response.statusCode, body: response.json<CountResponse>() }).toEqual({ status: 200, body: { count: before.length } });
      // Still failing, every one spends its whole fresh budget and dies again.
      for (const task of before) await deadAgain(task.id, task.attempts_made + task.max_attempts);
    });
  });

  describe('DELETE /dlq/:id', () => {
    it('answers 204 and deletes the dead task with its attempt history', async () => {
      const { id } = await makeDead('sleep');

      const response = await send(api.app, 'DELETE', `/dlq/${id}`);

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(await taskRow(api.db.url, id)).toBeUndefined();
      expect(await attemptRows(api.db.url, id)).toEqual([]);
      expect((await send(api.app, 'GET', `/tasks/${id}`)).statusCode).toBe(404);
    });

    it('also removes its {dead-letter} mirror entry and its failed job from Redis', async () => {
      const { id } = await makeDead('sleep');
      expect(await mirror.queue.getJob(id)).toBeDefined();
      expect(await api.producer.queue('sleep').getJob(id)).toBeDefined();

      expect((await send(api.app, 'DELETE', `/dlq/${id}`)).statusCode).toBe(204);

      expect(await mirror.queue.getJob(id)).toBeUndefined();
      expect(await api.producer.queue('sleep').getJob(id)).toBeUndefined();
    });

    it('answers a 404 problem the second time', async () => {
      const { id } = await makeDead('sleep');
      expect((await send(api.app, 'DELETE', `/dlq/${id}`)).statusCode).toBe(204);

      const again = await send(api.app, 'DELETE', `/dlq/${id}`);

      expect(again.statusCode).toBe(404);
      expect(again.headers['content-type']).toMatch(PROBLEM_JSON);
    });

    it('answers a 404 problem for a task that is not dead (and leaves it alone)', async () => {
      const completedId = await makeCompleted();

      const response = await send(api.app, 'DELETE', `/dlq/${completedId}`);

      expect((await taskRow(api.db.url, completedId))?.status).toBe('completed');
      expect(response.statusCode).toBe(404);
    });

    it('answers 404, not 500, for an id that is not a UUID', async () => {
      expect((await send(api.app, 'DELETE', '/dlq/not-a-uuid')).statusCode).toBe(404);
    });
  });

  describe('DELETE /dlq', () => {
    it('deletes the dead tasks of one type and answers how many; other types stay', async () => {
      const since = new Date(Date.now() - 1).toISOString();
      const sleeps = [await makeDead('sleep'), await makeDead('sleep')];
      const webhook = await makeDead('webhook');

      const response = await send(api.app, 'DELETE', `/dlq?type=sleep&from=${since}`);

      expect({ status: response.statusCode, body: response.json<CountResponse>() }).toEqual({ status: 200, body: { count: 2 } });
      for (const sleep of sleeps) {
        expect(await taskRow(api.db.url, sleep.id)).toBeUndefined();
        expect(await mirror.queue.getJob(sleep.id)).toBeUndefined();
      }
      expect((await taskRow(api.db.url, webhook.id))?.status).toBe('dead');
      expect(await mirror.queue.getJob(webhook.id)).toBeDefined();
    });
  });

  describe('the {dead-letter} mirror after Redis lost its data', () => {
    it('is rebuilt from PostgreSQL when an API starts', async () => {
      const completedId = await makeCompleted();
      await makeDead('sleep');
      await api.worker.close();
      const dead = await deadIds();
      expect(dead.length).toBeGreaterThan(0);
      await deleteRedisPrefix(api.prefix);
      expect(await mirror.queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
      // A stale entry for a task that is not dead must go.
      await mirror.add([{ taskId: completedId, type: 'noop', error: null }]);

      const restarted = await startApi(api.db.url, api.prefix);
      try {
        const mirrored = (await mirror.queue.getJobs(['waiting'])).map((job) => job.id).sort();
        expect(mirrored).toEqual(dead);
        const rows = await queryDatabase<{ id: string; type: string; last_error: string }>(api.db.url, `SELECT id, type, last_error FROM tasks WHERE status = 'dead'`);
        for (const row of rows) {
          expect((await mirror.queue.getJob(row.id))?.data).toEqual({ taskId: row.id, type: row.type, error: row.last_error, task: `/tasks/${row.id}` });
        }
      } finally {
        await restarted.close();
      }
    });
  });

  describe('DELETE /dlq without a filter', () => {
    it('clears the dead-letter queue and its mirror, answering how many', async () => {
      const before = await deadIds();
      expect(before.length).toBeGreaterThan(0);

      const response = await send(api.app, 'DELETE', '/dlq');

      expect({ status: response.statusCode, body: response.json<CountResponse>() }).toEqual({ status: 200, body: { count: before.length } });
      expect(await deadIds()).toEqual([]);
      expect((await list('')).items).toEqual([]);
      expect(await mirror.queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    });
  });
});
