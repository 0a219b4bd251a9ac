import { TASK_TYPE_NAMES, type TaskPage, type TaskTypeView, type TaskView } from '@taskq/contracts';
import { queryDatabase } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';

const api = useApiHarness({ label: 'api_tasks', env: { LOG_LEVEL: 'error' } });

const countRows = async (): Promise<number> => (await queryDatabase<{ n: number }>(api.db.url, 'SELECT count(*)::int AS n FROM tasks'))[0]?.n ?? -1;
const countJobs = async (): Promise<number> => {
  let total = 0;
  for (const queue of api.producer.allQueues()) {
    const counts = await queue.getJobCounts();
    total += Object.values(counts).reduce((sum, n) => sum + n, 0);
  }
  return total;
};

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  api.app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });

describe('POST /submit-task', () => {
  it('stores the task, queues its job under the task id, and answers 202 with a Location', async () => {
    const response = await post('/submit-task', { type: 'noop', payload: { note: 'hello' }, priority: 3 });
    expect(response.statusCode).toBe(202);
    const body = response.json<{ id: string; type: string; status: string; createdAt: string }>();
    expect(body).toEqual({ id: expect.any(String), type: 'noop', status: 'queued', createdAt: expect.any(String) });
    expect(response.headers['location']).toBe(`/tasks/${body.id}`);

    const [row] = await queryDatabase<{ status: string; payload: unknown; priority: number }>(api.db.url, 'SELECT status, payload, priority FROM tasks WHERE id = $1', [body.id]);
    expect(row).toEqual({ status: 'queued', payload: { note: 'hello' }, priority: 3 });
    const job = await api.producer.queue('noop').getJob(body.id);
    // The job is lean: the worker reads the payload from PostgreSQL.
    expect(job?.data).toEqual({ taskId: body.id, type: 'noop' });
    expect(job?.opts.priority).toBe(3);
  });

  it('is the same handler as POST /tasks', async () => {
    const response = await post('/tasks', { type: 'sleep', payload: { ms: 1 } });
    expect(response.statusCode).toBe(202);
    expect(response.json<{ type: string }>().type).toBe('sleep');
  });

  it('keeps a task with a future runAt delayed, in PostgreSQL and in the queue', async () => {
    const runAt = new Date(Date.now() + 60_000).toISOString();
    const response = await post('/submit-task', { type: 'noop', payload: {}, runAt });
    expect(response.statusCode).toBe(202);
    const { id, status } = response.json<{ id: string; status: string }>();
    expect(status).toBe('delayed');
    expect(await api.producer.queue('noop').getJobState(id)).toBe('delayed');
  });

  describe('refuses bad input with a 400 problem and stores and queues nothing', () => {
    it.each<[string, unknown, string]>([
      ['an unknown type', { type: 'fax', payload: {} }, 'type'],
      ['a type that is an Object.prototype key', { type: 'constructor', payload: {} }, 'type'],
      ['an invalid payload', { type: 'email', payload: { to: 'nobody', subject: 'x', text: 'y' } }, 'payload.to'],
      ['an unknown payload field', { type: 'noop', payload: { surprise: 1 } }, 'payload.surprise'],
      ['a missing payload', { type: 'noop' }, 'payload'],
      ['a payload that is not an object', { type: 'noop', payload: 'hi' }, 'payload'],
      ['an unknown top-level field', { type: 'noop', payload: {}, colour: 'red' }, 'colour'],
      ['a priority out of range', { type: 'noop', payload: {}, priority: 0 }, 'priority'],
      ['a runAt that is not a date', { type: 'noop', payload: {}, runAt: 'tomorrow' }, 'runAt'],
    ])('%s', async (_case, body, field) => {
      const rowsBefore = await countRows();
      const jobsBefore = await countJobs();
      const response = await post('/submit-task', body);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json<{ type: string; status: number; detail: string; errors: Array<{ field: string }> }>();
      expect(problem).toMatchObject({ type: '/problems/validation-error', status: 400 });
      expect(problem.errors.map((error) => error.field)).toContain(field);
      expect(await countRows()).toBe(rowsBefore);
      expect(await countJobs()).toBe(jobsBefore);
    });

    it('names the valid types when the type is unknown', async () => {
      const response = await post('/submit-task', { type: 'fax', payload: {} });
      expect(response.json<{ detail: string }>().detail).toContain(TASK_TYPE_NAMES.join(', '));
    });

    it('malformed JSON', async () => {
      const rowsBefore = await countRows();
      const jobsBefore = await countJobs();
      const response = await post('/submit-task', '{"type": "noop", "payload": {');
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json<{ status: number }>().status).toBe(400);
      expect(await countRows()).toBe(rowsBefore);
      expect(await countJobs()).toBe(jobsBefore);
    });
  });
});

describe('GET /tasks/:id', () => {
  it('shows the stored task with its (still empty) attempt list', async () => {
    const { id } = (await post('/submit-task', { type: 'webhook', payload: { url: 'https://example.com/hook' } })).json<{ id: string }>();
    const response = await api.app.inject({ method: 'GET', url: `/tasks/${id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json<TaskView>()).toMatchObject({
      id, type: 'webhook', status: 'queued', payload: { url: 'https://example.com/hook' }, result: null, lastError: null,
      maxAttempts: 8, attemptsMade: 0, startedAt: null, finishedAt: null, attempts: [],
    });
  });

  it.each(['00000000-0000-4000-8000-000000000000', 'not-a-uuid'])('answers a 404 problem for %s', async (id) => {
    const response = await api.app.inject({ method: 'GET', url: `/tasks/${id}` });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('GET /tasks', () => {
  it('lists newest first, filtered, in cursor pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post('/tasks', { type: 'report', payload: { windowMinutes: 5 } })).json<{ id: string }>().id);
    const first = (await api.app.inject({ method: 'GET', url: '/tasks?type=report&limit=3' })).json<TaskPage>();
    expect(first.items.map((item) => item.id)).toEqual(ids.slice(-3).reverse());
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await api.app.inject({ method: 'GET', url: `/tasks?type=report&limit=3&cursor=${first.nextCursor}` })).json<TaskPage>();
    expect(second.items.map((item) => item.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.nextCursor).toBeNull();

    const delayed = (await api.app.inject({ method: 'GET', url: '/tasks?status=delayed' })).json<TaskPage>();
    expect(delayed.items.every((item) => item.status === 'delayed')).toBe(true);
    expect(delayed.items.length).toBeGreaterThan(0);
  });

  it.each(['limit=101', 'limit=0', 'status=sleeping', 'cursor=garbage'])('answers 400 for %s', async (query) => {
    const response = await api.app.inject({ method: 'GET', url: `/tasks?${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('GET /task-types', () => {
  it('describes every registered type with its payload schema and defaults', async () => {
    const types = (await api.app.inject({ method: 'GET', url: '/task-types' })).json<TaskTypeView[]>();
    expect(types.map((type) => type.type)).toEqual(TASK_TYPE_NAMES);
    const email = types.find((type) => type.type === 'email');
    expect(email?.payloadSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['to', 'subject']), additionalProperties: false });
    expect(email?.defaults).toMatchObject({ attempts: 5, timeoutMs: 30_000, backoff: { type: 'exponential', jitter: 'full' } });
    expect(types.find((type) => type.type === 'sleep')?.payloadSchema).toMatchObject({ properties: { ms: { type: 'integer' } } });
  });
});

describe('health', () => {
  it('answers liveness and readiness', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await api.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', details: { redis: { status: 'up' }, postgres: { status: 'up' } } });
  });
});
