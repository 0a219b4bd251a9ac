import type { SubmitTaskResponse, TaskView } from '@taskq/contracts';
import { queryDatabase, waitFor } from '@taskq/testing';
import { TaskLifecycleService } from './task-lifecycle.service';
import { PROBLEM_JSON, attemptDurationMs, attemptRows, send, taskRow, waitForStatus, type AttemptRow } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(30_000);

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/**
 * `POST /tasks/:id/cancel` and `POST /tasks/:id/retry`. A worker process serves only
 * `sleep`: `noop` tasks stay queued where the API put them.
 */
describe(TaskLifecycleService.name, () => {
  const api = useApiHarness({ label: 'retry_cancel', worker: { WORKER_QUEUES: 'sleep' } });

  const submit = async (body: Record<string, unknown>): Promise<string> => {
    const response = await send(api.app, 'POST', '/tasks', body);
    expect(response.statusCode).toBe(202);
    return response.json<SubmitTaskResponse>().id;
  };

  const cancel = (id: string, headers: Record<string, string> = {}) => send(api.app, 'POST', `/tasks/${id}/cancel`, undefined, headers);
  const retry = (id: string) => send(api.app, 'POST', `/tasks/${id}/retry`);

  /** A sleep task whose first attempt is running on the worker. */
  const running = async (body: Record<string, unknown>): Promise<string> => {
    const id = await submit(body);
    await waitFor(async () => (await taskRow(api.db.url, id))?.status === 'active' && (await attemptRows(api.db.url, id))[0]?.outcome === 'running', {
      description: `task ${id} running`,
    });
    return id;
  };

  const dead = async (): Promise<string> => {
    const id = await submit({ type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 2, backoff: { delayMs: 10, maxDelayMs: 10 } });
    await waitForStatus(api.db.url, id, 'dead');
    // The worker has let go of the job too (a retry before that is refused with 409).
    await waitFor(async () => (await api.producer.queue('sleep').getJobState(id)) === 'failed', { description: `job ${id} failed in BullMQ` });
    return id;
  };

  const completed = async (): Promise<string> => {
    const id = await submit({ type: 'sleep', payload: { ms: 1 } });
    await waitForStatus(api.db.url, id, 'completed');
    return id;
  };

  const expectProblem = (response: { statusCode: number; headers: Record<string, unknown>; json: <T>() => T }, status: number, type?: string): void => {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    if (type) expect(response.json<{ type: string }>().type).toBe(type);
  };

  const outcomes = (attempts: AttemptRow[]): Array<[number, string]> => attempts.map((attempt) => [attempt.number, attempt.outcome]);

  describe('POST /tasks/:id/cancel', () => {
    it.each<[string, Record<string, string>]>([
      ['no content-type', {}],
      ['content-type application/json and an empty body', { 'content-type': 'application/json' }],
      ['content-type application/json and content-length 0', { 'content-type': 'application/json', 'content-length': '0' }],
    ])('cancels a queued task (%s): 200, and its job leaves Redis', async (_case, headers) => {
      const id = await submit({ type: 'noop', payload: {} });
      expect(await api.producer.queue('noop').getJob(id)).toBeDefined();

      const response = await cancel(id, headers);

      expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { id, status: 'cancelled', previousStatus: 'queued' } });
      expect((await taskRow(api.db.url, id))?.status).toBe('cancelled');
      expect(await api.producer.queue('noop').getJob(id)).toBeUndefined();
    });

    it('cancels a delayed task: 200, and its delayed job leaves Redis', async () => {
      const id = await submit({ type: 'sleep', payload: { ms: 1 }, delayMs: 60_000 });
      expect(await api.producer.queue('sleep').getJobState(id)).toBe('delayed');

      const response = await cancel(id);

      expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { id, status: 'cancelled', previousStatus: 'delayed' } });
      expect((await taskRow(api.db.url, id))?.status).toBe('cancelled');
      expect(await api.producer.queue('sleep').getJob(id)).toBeUndefined();
    });

    it('cancels a retrying task: 200, its job leaves Redis, and no further attempt runs', async () => {
      // A long backoff keeps the task retrying while the test looks at it; nothing waits for it.
      const id = await submit({ type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 60_000, jitter: 'none' } });
      await waitForStatus(api.db.url, id, 'retrying');
      await waitFor(async () => (await api.producer.queue('sleep').getJobState(id)) === 'delayed', { description: `job ${id} waits for its retry` });

      const response = await cancel(id);

      expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { id, status: 'cancelled', previousStatus: 'retrying' } });
      expect((await taskRow(api.db.url, id))?.status).toBe('cancelled');
      expect(await api.producer.queue('sleep').getJob(id)).toBeUndefined();
      expect(outcomes(await attemptRows(api.db.url, id))).toEqual([[1, 'timed_out']]);
    });

    it('cancels a running task: 200, the worker aborts the attempt (outcome cancelled) and does not retry it', async () => {
      const id = await running({ type: 'sleep', payload: { ms: 10_000 }, maxAttempts: 3, backoff: { delayMs: 10, maxDelayMs: 10 } });
      try {
        const response = await cancel(id);

        expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { id, status: 'cancelled', previousStatus: 'active' } });
        expect((await taskRow(api.db.url, id))?.status).toBe('cancelled');
        await waitFor(async () => (await api.producer.queue('sleep').getJobState(id)) === 'failed', { description: `job ${id} failed for good in BullMQ` });
        const attempts = await attemptRows(api.db.url, id);
        expect(attempts.map((attempt) => [attempt.number, attempt.outcome, attempt.error])).toEqual([[1, 'cancelled', 'cancelled while running']]);
        expect(attemptDurationMs(attempts[0])).toBeLessThan(5_000);
        expect((await taskRow(api.db.url, id))?.status).toBe('cancelled');
      } finally {
        // Should the API fail to signal the worker, stop the 10 s attempt anyway so the file stays fast.
        await api.producer.broadcastCancel(id);
      }
    });

    it('aborts a running attempt when a cancellation is broadcast over Redis pub/sub, records it cancelled and does not retry it', async () => {
      // The worker's half of cancelling a running task, driven the way the API does it:
      // PostgreSQL says cancelled first, then the task id is published.
      const id = await running({ type: 'sleep', payload: { ms: 10_000 }, maxAttempts: 3, backoff: { delayMs: 10, maxDelayMs: 10 } });
      await queryDatabase(api.db.url, `UPDATE tasks SET status = 'cancelled', finished_at = now() WHERE id = $1`, [id]);

      await api.producer.broadcastCancel(id);

      await waitFor(async () => (await api.producer.queue('sleep').getJobState(id)) === 'failed', { description: `job ${id} failed for good in BullMQ` });
      const attempts = await attemptRows(api.db.url, id);
      expect(attempts.map((attempt) => [attempt.number, attempt.outcome, attempt.error])).toEqual([[1, 'cancelled', 'cancelled while running']]);
      expect(attemptDurationMs(attempts[0])).toBeLessThan(5_000);
      expect((await taskRow(api.db.url, id))?.status).toBe('cancelled');
      expect((await api.producer.queue('sleep').getJob(id))?.attemptsMade).toBe(1);
    });

    it.each<[string, Record<string, string>]>([
      ['no content-type', {}],
      ['content-type application/json and an empty body', { 'content-type': 'application/json' }],
    ])('answers a 409 problem for a completed task (%s), and leaves it completed', async (_case, headers) => {
      const id = await completed();

      expectProblem(await cancel(id, headers), 409, '/problems/invalid-state');
      expect((await taskRow(api.db.url, id))?.status).toBe('completed');
    });

    it('answers a 409 problem for a dead task and for an already cancelled one', async () => {
      const deadId = await dead();
      const cancelledId = await submit({ type: 'noop', payload: {} });
      await cancel(cancelledId);
      await waitForStatus(api.db.url, cancelledId, 'cancelled');

      expectProblem(await cancel(deadId), 409, '/problems/invalid-state');
      expectProblem(await cancel(cancelledId), 409, '/problems/invalid-state');
      expect((await taskRow(api.db.url, deadId))?.status).toBe('dead');
    });

    it('answers a 404 problem for an unknown id', async () => {
      expectProblem(await cancel(UNKNOWN_ID), 404, '/problems/not-found');
    });

    it('answers a 404 problem, not 500, for an id that is not a UUID', async () => {
      expectProblem(await cancel('not-a-uuid'), 404);
    });
  });

  describe('POST /tasks/:id/retry', () => {
    it('runs a dead task again with a fresh attempt budget, keeping its history', async () => {
      const id = await dead();

      const response = await retry(id);

      expect({ status: response.statusCode, body: response.json<SubmitTaskResponse>() }).toMatchObject({ status: 202, body: { id, type: 'sleep', status: 'queued' } });
      // Still timing out: the reset budget buys exactly two more attempts, numbered 3 and 4.
      await waitFor(async () => (await taskRow(api.db.url, id))?.attempts_made === 4 && (await taskRow(api.db.url, id))?.status === 'dead', {
        description: `task ${id} dead again after 4 attempts`,
      });
      expect(outcomes(await attemptRows(api.db.url, id))).toEqual([[1, 'timed_out'], [2, 'timed_out'], [3, 'timed_out'], [4, 'timed_out']]);
      expect((await send(api.app, 'GET', `/tasks/${id}`)).json<TaskView>()).toMatchObject({ maxAttempts: 2, attemptsMade: 4 });
    });

    it('runs a cancelled task again, at once even if it had been delayed', async () => {
      const id = await submit({ type: 'sleep', payload: { ms: 1 }, delayMs: 60_000 });
      await cancel(id);
      await waitForStatus(api.db.url, id, 'cancelled');

      const response = await retry(id);

      expect({ status: response.statusCode, body: response.json<SubmitTaskResponse>() }).toMatchObject({ status: 202, body: { id, status: 'queued' } });
      const row = await waitForStatus(api.db.url, id, 'completed');
      expect(row.run_at).toBeNull();
      expect(outcomes(await attemptRows(api.db.url, id))).toEqual([[1, 'completed']]);
    });

    it('answers a 409 problem for a queued, a running and a completed task', async () => {
      const queuedId = await submit({ type: 'noop', payload: {} });
      const completedId = await completed();
      const activeId = await running({ type: 'sleep', payload: { ms: 10_000 } });
      try {
        expectProblem(await retry(queuedId), 409, '/problems/invalid-state');
        expectProblem(await retry(activeId), 409, '/problems/invalid-state');
        expectProblem(await retry(completedId), 409, '/problems/invalid-state');
        expect((await taskRow(api.db.url, completedId))?.status).toBe('completed');
      } finally {
        await api.producer.broadcastCancel(activeId);
      }
    });

    it('answers a 404 problem for an unknown id', async () => {
      expectProblem(await retry(UNKNOWN_ID), 404, '/problems/not-found');
    });

    it('answers a 404 problem, not 500, for an id that is not a UUID', async () => {
      expectProblem(await retry('not-a-uuid'), 404);
    });
  });
});
