import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { getTaskType, type SubmitTaskResponse, type TaskView } from '@taskq/contracts';
import { TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix } from '@taskq/testing';
import { TaskSubmissionService } from './task-submission.service';
import { PROBLEM_JSON, attemptRows, countTasks, send, startApi, startWorker, taskRow, waitForStatus } from './testing/test-apps';
import type { WorkerProcess } from './testing/test-apps';

jest.setTimeout(30_000);

const DAY_MS = 24 * 3_600_000;
const iso = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

/**
 * Per-task options of a submission: retry budget, backoff, deadline, and when it may run.
 * A worker serves only `sleep`, so `noop` tasks stay where the API put them.
 */
describe(TaskSubmissionService.name, () => {
  const db = testDatabase('submission_options');
  const prefix = uniquePrefix('submission-options');
  let sut: NestFastifyApplication;
  let worker: WorkerProcess;
  let redis: Redis;
  let producer: TaskProducer;

  const countJobs = async (): Promise<number> => {
    let total = 0;
    for (const queue of producer.allQueues()) total += Object.values(await queue.getJobCounts()).reduce((sum, n) => sum + n, 0);
    return total;
  };

  const submit = async (body: Record<string, unknown>): Promise<SubmitTaskResponse> => {
    const response = await send(sut, 'POST', '/tasks', body);
    expect(response.statusCode).toBe(202);
    return response.json<SubmitTaskResponse>();
  };

  const view = async (id: string): Promise<TaskView> => (await send(sut, 'GET', `/tasks/${id}`)).json<TaskView>();

  beforeAll(async () => {
    sut = await startApi(db.url, prefix);
    // Test-only record of every retry the worker schedules (next_attempt_at is cleared when the retry starts).
    await queryDatabase(db.url, 'CREATE TABLE test_retry_log (seq bigserial PRIMARY KEY, task_id uuid NOT NULL, next_attempt_at timestamptz NOT NULL)');
    await queryDatabase(
      db.url,
      `CREATE FUNCTION test_log_retry() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO test_retry_log (task_id, next_attempt_at) VALUES (NEW.id, NEW.next_attempt_at); RETURN NEW; END $$`,
    );
    await queryDatabase(
      db.url,
      `CREATE TRIGGER test_log_retry AFTER UPDATE ON tasks FOR EACH ROW
       WHEN (NEW.next_attempt_at IS NOT NULL AND NEW.next_attempt_at IS DISTINCT FROM OLD.next_attempt_at) EXECUTE FUNCTION test_log_retry()`,
    );
    worker = await startWorker(db.url, prefix, { WORKER_QUEUES: 'sleep' });
    redis = new Redis(TEST_REDIS_URL);
    producer = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await worker?.close();
    await producer?.close();
    redis?.disconnect();
    await sut?.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  describe('retry and deadline overrides', () => {
    it('merges the backoff over the type default and shows maxAttempts, backoff and timeoutMs in GET /tasks/:id, and maxAttempts on the job', async () => {
      const { id } = await submit({ type: 'noop', payload: {}, maxAttempts: 7, backoff: { type: 'fixed', jitter: 'none', delayMs: 20 }, timeoutMs: 250 });

      const noopDefault = getTaskType('noop').backoff;
      const expectedBackoff = { type: 'fixed', delayMs: 20, maxDelayMs: noopDefault.maxDelayMs, jitter: 'none' };
      expect(await view(id)).toMatchObject({ maxAttempts: 7, backoff: expectedBackoff, timeoutMs: 250, attemptsMade: 0 });
      expect(await taskRow(db.url, id)).toMatchObject({ max_attempts: 7, backoff: expectedBackoff, timeout_ms: 250 });
      const job = await producer.queue('noop').getJob(id);
      expect(job?.opts.attempts).toBe(7);
    });

    it("uses the type's defaults when no override is given", async () => {
      const { id } = await submit({ type: 'noop', payload: {} });

      const noop = getTaskType('noop');
      expect(await view(id)).toMatchObject({ maxAttempts: noop.attempts, backoff: noop.backoff, timeoutMs: noop.timeoutMs });
    });

    it.each<[string, Record<string, unknown>]>([
      ['maxAttempts 1', { maxAttempts: 1 }],
      ['maxAttempts 50', { maxAttempts: 50 }],
      ['timeoutMs 100', { timeoutMs: 100 }],
      ['priority 1', { priority: 1 }],
      ['priority 1000', { priority: 1_000 }],
      ['an exponential backoff with only a cap', { backoff: { maxDelayMs: 120_000 } }],
    ])('accepts the boundary value %s', async (_case, options) => {
      const response = await send(sut, 'POST', '/tasks', { type: 'noop', payload: {}, ...options });
      expect(response.statusCode).toBe(202);
    });

    it.each<[string, Record<string, unknown>, number[]]>([
      ['an exponential backoff capped by maxDelayMs', { delayMs: 40, maxDelayMs: 60, jitter: 'none' }, [40, 60, 60]],
      ['a fixed backoff', { type: 'fixed', delayMs: 30, jitter: 'none' }, [30, 30, 30]],
    ])('runs the task with its own deadline, attempt budget and %s', async (_case, backoff, delays) => {
      const { id } = await submit({ type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 4, backoff });

      const row = await waitForStatus(db.url, id, 'dead');

      // 4 attempts (the type's default is 3), each cut at 100 ms (the default is 310 s).
      expect(row).toMatchObject({ attempts_made: 4, last_error: 'timed out after 100 ms' });
      const attempts = await attemptRows(db.url, id);
      expect(attempts.map((attempt) => [attempt.number, attempt.outcome, attempt.error])).toEqual(
        [1, 2, 3, 4].map((number) => [number, 'timed_out', 'timed out after 100 ms']),
      );
      // Each retry was scheduled exactly `delay` after the failed attempt ended (no jitter), and ran no earlier.
      const scheduled = await queryDatabase<{ next_attempt_at: Date }>(db.url, 'SELECT next_attempt_at FROM test_retry_log WHERE task_id = $1 ORDER BY seq', [id]);
      expect(scheduled.map((retry, index) => retry.next_attempt_at.getTime() - (attempts[index]?.finished_at?.getTime() ?? 0))).toEqual(delays);
      for (const [index, retry] of scheduled.entries()) {
        expect(attempts[index + 1]?.started_at.getTime()).toBeGreaterThanOrEqual(retry.next_attempt_at.getTime() - 5);
      }
    });
  });

  describe('scheduling', () => {
    it.each<[string, (delayMs: number) => Record<string, unknown>]>([
      ['runAt', (delayMs) => ({ runAt: iso(delayMs) })],
      ['visibility_time (alias of runAt)', (delayMs) => ({ visibility_time: iso(delayMs) })],
      ['delayMs', (delayMs) => ({ delayMs })],
    ])('keeps a task scheduled with %s delayed in PostgreSQL and BullMQ', async (_case, schedule) => {
      const before = Date.now();
      const response = await submit({ type: 'noop', payload: {}, ...schedule(60_000) });

      expect(response.status).toBe('delayed');
      const row = await taskRow(db.url, response.id);
      expect(row?.status).toBe('delayed');
      expect(row?.run_at?.getTime()).toBeGreaterThanOrEqual(before + 59_000);
      expect(row?.run_at?.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
      expect((await view(response.id)).runAt).toBe(row?.run_at?.toISOString());
      expect(await producer.queue('noop').getJobState(response.id)).toBe('delayed');
    });

    it('runs a delayed task once it is due, not before', async () => {
      const { id, status, createdAt } = await submit({ type: 'sleep', payload: { ms: 1 }, delayMs: 300 });
      expect(status).toBe('delayed');
      expect(await producer.queue('sleep').getJobState(id)).toBe('delayed');

      await waitForStatus(db.url, id, 'completed');

      const [attempt] = await attemptRows(db.url, id);
      expect((attempt?.started_at.getTime() ?? 0) - new Date(createdAt).getTime()).toBeGreaterThanOrEqual(295);
    });

    it.each<[string, Record<string, unknown>]>([
      ['runAt', { runAt: iso(-60_000) }],
      ['visibility_time', { visibility_time: iso(-60_000) }],
      ['delayMs 0', { delayMs: 0 }],
    ])('queues a task whose %s is not in the future to run now', async (_case, schedule) => {
      const { id, status } = await submit({ type: 'noop', payload: {}, ...schedule });

      expect(status).toBe('queued');
      expect((await taskRow(db.url, id))?.status).toBe('queued');
      expect(['waiting', 'prioritized']).toContain(await producer.queue('noop').getJobState(id));
    });

    it('accepts a runAt just under a year ahead', async () => {
      expect((await submit({ type: 'noop', payload: {}, runAt: iso(364 * DAY_MS) })).status).toBe('delayed');
    });
  });

  describe('refuses an out-of-range option with a 400 problem naming the field; stores and queues nothing', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['maxAttempts 0', { maxAttempts: 0 }, 'maxAttempts'],
      ['maxAttempts 51', { maxAttempts: 51 }, 'maxAttempts'],
      ['a fractional maxAttempts', { maxAttempts: 2.5 }, 'maxAttempts'],
      ['timeoutMs 99', { timeoutMs: 99 }, 'timeoutMs'],
      ['timeoutMs over an hour', { timeoutMs: 3_600_001 }, 'timeoutMs'],
      ['an unknown backoff type', { backoff: { type: 'linear' } }, 'backoff.type'],
      ['an unknown jitter', { backoff: { jitter: 'half' } }, 'backoff.jitter'],
      ['a negative backoff delay', { backoff: { delayMs: -1 } }, 'backoff.delayMs'],
      ['a backoff cap below its delay', { backoff: { delayMs: 500, maxDelayMs: 100 } }, 'backoff.maxDelayMs'],
      ['an unknown backoff field', { backoff: { factor: 2 } }, 'backoff.factor'],
      ['priority 1001', { priority: 1_001 }, 'priority'],
      ['a fractional priority', { priority: 1.5 }, 'priority'],
      ['a runAt more than a year ahead', { runAt: iso(400 * DAY_MS) }, 'runAt'],
      ['a visibility_time more than a year ahead', { visibility_time: iso(400 * DAY_MS) }, 'visibility_time'],
      ['a delayMs more than a year ahead', { delayMs: 400 * DAY_MS }, 'delayMs'],
      ['an unparsable runAt', { runAt: '2030-13-45T25:00:00Z' }, 'runAt'],
      ['an unparsable visibility_time', { visibility_time: 'soon' }, 'visibility_time'],
      ['a negative delayMs', { delayMs: -5 }, 'delayMs'],
      ['runAt and delayMs together', { runAt: iso(60_000), delayMs: 1_000 }, 'delayMs'],
      ['runAt and visibility_time together', { runAt: iso(60_000), visibility_time: iso(60_000) }, 'visibility_time'],
      ['visibility_time and delayMs together', { visibility_time: iso(60_000), delayMs: 1_000 }, 'delayMs'],
    ])('%s', async (_case, options, field) => {
      const rowsBefore = await countTasks(db.url);
      const jobsBefore = await countJobs();

      const response = await send(sut, 'POST', '/tasks', { type: 'noop', payload: {}, ...options });

      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      const problem = response.json<{ type: string; status: number; errors: Array<{ field: string }> }>();
      expect(problem).toMatchObject({ type: '/problems/validation-error', status: 400 });
      expect(problem.errors.map((error) => error.field)).toContain(field);
      expect(await countTasks(db.url)).toBe(rowsBefore);
      expect(await countJobs()).toBe(jobsBefore);
    });
  });
});
