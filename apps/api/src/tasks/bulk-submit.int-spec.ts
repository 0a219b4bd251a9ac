import type { BulkSubmitResponse } from '@taskq/contracts';
import { queryDatabase } from '@taskq/testing';
import { TasksController } from './tasks.controller';
import { PROBLEM_JSON, countTasks, send } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(30_000);

interface ValidationProblem {
  type: string;
  status: number;
  detail: string;
  errors: Array<{ field: string; messages: string[] }>;
}

const noops = (count: number): Array<Record<string, unknown>> => Array.from({ length: count }, (_, index) => ({ type: 'noop', payload: { note: `n${index}` } }));

/** `POST /tasks/bulk`: up to 1,000 tasks, all accepted or none. No worker runs: jobs stay where the API put them. */
describe(`${TasksController.name} POST /tasks/bulk`, () => {
  const api = useApiHarness({ label: 'bulk_submit' });

  const jobCount = async (): Promise<number> => {
    let total = 0;
    for (const queue of api.producer.allQueues()) total += Object.values(await queue.getJobCounts()).reduce((sum, n) => sum + n, 0);
    return total;
  };

  const expectNothingStored = async (rowsBefore: number, jobsBefore: number): Promise<void> => {
    expect(await countTasks(api.db.url)).toBe(rowsBefore);
    expect(await jobCount()).toBe(jobsBefore);
  };

  const bulk = (tasks: unknown[]) => send(api.app, 'POST', '/tasks/bulk', { tasks });

  it('accepts 1,000 tasks: 202, count 1000, one row and one job per task, in order', async () => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();
    const tasks = [
      ...noops(997),
      { type: 'sleep', payload: { ms: 1 }, priority: 4 },
      { type: 'report', payload: { windowMinutes: 5 }, delayMs: 60_000 },
      { type: 'webhook', payload: { url: 'https://example.com/hook' }, maxAttempts: 2 },
    ];

    const response = await bulk(tasks);

    expect(response.statusCode).toBe(202);
    const body = response.json<BulkSubmitResponse>();
    expect(body.count).toBe(1_000);
    expect(body.tasks).toHaveLength(1_000);
    expect(body.tasks.map((task) => task.type)).toEqual(tasks.map((task) => task.type));
    expect(new Set(body.tasks.map((task) => task.id)).size).toBe(1_000);
    expect(body.tasks[998]?.status).toBe('delayed');
    expect(body.tasks.filter((task) => task.status === 'queued')).toHaveLength(999);

    expect(await countTasks(api.db.url)).toBe(rowsBefore + 1_000);
    expect(await jobCount()).toBe(jobsBefore + 1_000);
    const rows = await queryDatabase<{ id: string; type: string; payload: unknown; priority: number | null; max_attempts: number }>(
      api.db.url,
      'SELECT id, type, payload, priority, max_attempts FROM tasks WHERE id = ANY($1::uuid[])',
      [body.tasks.map((task) => task.id)],
    );
    expect(rows).toHaveLength(1_000);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const idAt = (index: number): string => body.tasks[index]?.id ?? `no task ${index}`;
    expect(byId.get(idAt(5))).toMatchObject({ type: 'noop', payload: { note: 'n5' } });
    expect(byId.get(idAt(997))).toMatchObject({ type: 'sleep', priority: 4 });
    expect(byId.get(idAt(999))).toMatchObject({ type: 'webhook', max_attempts: 2 });
    expect((await api.producer.queue('noop').getJob(idAt(5)))?.data).toEqual({ taskId: idAt(5), type: 'noop' });
    expect(await api.producer.queue('report').getJobState(idAt(998))).toBe('delayed');
    expect((await api.producer.queue('webhook').getJob(idAt(999)))?.opts.attempts).toBe(2);
  });

  it('refuses 1,001 tasks with a 400 problem and stores nothing', async () => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();

    const response = await bulk(noops(1_001));

    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<ValidationProblem>().errors.map((error) => error.field)).toContain('tasks');
    await expectNothingStored(rowsBefore, jobsBefore);
  });

  it.each<[string, unknown]>([
    ['an empty list', { tasks: [] }],
    ['tasks that is not a list', { tasks: { type: 'noop', payload: {} } }],
    ['no tasks at all', {}],
  ])('refuses %s with a 400 problem', async (_case, body) => {
    const response = await send(api.app, 'POST', '/tasks/bulk', body);

    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<ValidationProblem>().errors.map((error) => error.field)).toContain('tasks');
  });

  it('refuses the whole request when one task of many has an invalid payload, naming its index; stores and queues nothing', async () => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();
    const tasks = noops(500);
    tasks[3] = { type: 'sleep', payload: { ms: -1 } };

    const response = await bulk(tasks);

    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    const problem = response.json<ValidationProblem>();
    expect(problem).toMatchObject({ type: '/problems/validation-error', status: 400 });
    expect(problem.errors.map((error) => error.field)).toEqual(['tasks.3.payload.ms']);
    expect(problem.detail).toContain('3');
    await expectNothingStored(rowsBefore, jobsBefore);
  });

  it('names every failing index and field when several tasks are invalid', async () => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();
    const tasks = noops(20);
    tasks[2] = { type: 'fax', payload: {} };
    tasks[11] = { type: 'email', payload: { to: 'nobody', subject: 'x', text: 'y' } };
    tasks[17] = { type: 'noop', payload: {}, runAt: new Date(Date.now() + 60_000).toISOString(), delayMs: 5 };

    const response = await bulk(tasks);

    expect(response.statusCode).toBe(400);
    expect(response.json<ValidationProblem>().errors.map((error) => error.field).sort()).toEqual(['tasks.11.payload.to', 'tasks.17.delayMs', 'tasks.2.type']);
    await expectNothingStored(rowsBefore, jobsBefore);
  });

  it('refuses a task whose options are out of range, naming its index', async () => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();
    const tasks = noops(10);
    tasks[7] = { type: 'noop', payload: {}, maxAttempts: 51 };

    const response = await bulk(tasks);

    expect(response.statusCode).toBe(400);
    expect(response.json<ValidationProblem>().errors.map((error) => error.field)).toEqual(['tasks.7.maxAttempts']);
    await expectNothingStored(rowsBefore, jobsBefore);
  });

  it('names a payload error and an out-of-range option of different tasks in one answer', async () => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();
    const tasks = noops(10);
    tasks[3] = { type: 'sleep', payload: { ms: -1 } };
    tasks[7] = { type: 'noop', payload: {}, priority: 0 };

    const response = await bulk(tasks);

    expect(response.statusCode).toBe(400);
    const problem = response.json<ValidationProblem>();
    expect(problem.errors.map((error) => error.field).sort()).toEqual(['tasks.3.payload.ms', 'tasks.7.priority']);
    expect(problem.detail).toMatch(/3, 7/);
    await expectNothingStored(rowsBefore, jobsBefore);
  });

  it('honours an idempotencyKey on a bulk task: the same request again answers with the original task and stores nothing', async () => {
    const task = { type: 'noop', payload: { note: 'bulk-key' }, idempotencyKey: 'bulk-key-1' };

    const first = await bulk([task, { type: 'noop', payload: {} }]);
    const jobsAfterFirst = await jobCount();
    const second = await bulk([task]);

    expect(first.statusCode).toBe(202);
    const [original] = first.json<BulkSubmitResponse>().tasks;
    expect(second.json<BulkSubmitResponse>().tasks).toEqual([original]);
    const rows = await queryDatabase<{ id: string; idempotency_key: string | null }>(api.db.url, `SELECT id, idempotency_key FROM tasks WHERE payload->>'note' = 'bulk-key'`);
    expect(rows).toEqual([{ id: original?.id, idempotency_key: 'bulk-key-1' }]);
    expect(await jobCount()).toBe(jobsAfterFirst);
  });

  it('refuses a bulk task that reuses an idempotency key with another body: 422, nothing stored', async () => {
    expect((await bulk([{ type: 'noop', payload: { note: 'first' }, idempotencyKey: 'bulk-key-2' }])).statusCode).toBe(202);
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();

    const response = await bulk([{ type: 'noop', payload: {} }, { type: 'noop', payload: { note: 'second' }, idempotencyKey: 'bulk-key-2' }]);

    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<{ type: string }>().type).toBe('/problems/idempotency-key-reused');
    await expectNothingStored(rowsBefore, jobsBefore);
  });
});
