import { randomUUID } from 'node:crypto';
import type { SubmitTaskResponse } from '@taskq/contracts';
import { deleteRedisPrefix, queryDatabase } from '@taskq/testing';
import { TaskSubmissionService } from './task-submission.service';
import { PROBLEM_JSON, countTasks, send, waitForStatus } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(30_000);

/** `Idempotency-Key` header or `idempotencyKey` body field: one task per key, however often it is sent. */
describe(`${TaskSubmissionService.name} idempotency`, () => {
  const api = useApiHarness({ label: 'idempotency', worker: { WORKER_QUEUES: 'noop' } });

  const newKey = (): string => `key-${randomUUID()}`;
  const rowsWithKey = async (key: string): Promise<string[]> =>
    (await queryDatabase<{ id: string }>(api.db.url, 'SELECT id FROM tasks WHERE idempotency_key = $1', [key])).map((row) => row.id);
  const jobCount = async (): Promise<number> => {
    let total = 0;
    for (const queue of api.producer.allQueues()) total += Object.values(await queue.getJobCounts()).reduce((sum, n) => sum + n, 0);
    return total;
  };

  it('answers a replay of the same key and body with 200 and the original task, creating nothing', async () => {
    const key = newKey();
    const body = { type: 'sleep', payload: { ms: 5 }, priority: 7 };

    const first = await send(api.app, 'POST', '/tasks', body, { 'idempotency-key': key });
    const jobsAfterFirst = await jobCount();
    const replay = await send(api.app, 'POST', '/submit-task', body, { 'idempotency-key': key });

    expect(first.statusCode).toBe(202);
    expect(replay.statusCode).toBe(200);
    const original = first.json<SubmitTaskResponse>();
    expect(replay.json<SubmitTaskResponse>()).toEqual(original);
    expect(replay.headers['location']).toBe(`/tasks/${original.id}`);
    expect(await rowsWithKey(key)).toEqual([original.id]);
    expect(await jobCount()).toBe(jobsAfterFirst);
  });

  it('takes the key from the idempotencyKey body field too', async () => {
    const key = newKey();
    const body = { type: 'sleep', payload: { ms: 5 }, idempotencyKey: key };

    const first = await send(api.app, 'POST', '/tasks', body);
    const replay = await send(api.app, 'POST', '/tasks', body);

    expect([first.statusCode, replay.statusCode]).toEqual([202, 200]);
    expect(replay.json<SubmitTaskResponse>().id).toBe(first.json<SubmitTaskResponse>().id);
    expect(await rowsWithKey(key)).toEqual([first.json<SubmitTaskResponse>().id]);
  });

  it('treats a body whose fields come in another order as the same body', async () => {
    const key = newKey();
    const first = await send(api.app, 'POST', '/tasks', { type: 'sleep', payload: { ms: 5 }, maxAttempts: 2 }, { 'idempotency-key': key });
    const replay = await send(api.app, 'POST', '/tasks', { maxAttempts: 2, payload: { ms: 5 }, type: 'sleep' }, { 'idempotency-key': key });

    expect([first.statusCode, replay.statusCode]).toEqual([202, 200]);
    expect(replay.json<SubmitTaskResponse>().id).toBe(first.json<SubmitTaskResponse>().id);
  });

  it('lets the header win over the body field', async () => {
    const headerKey = newKey();
    const bodyKey = newKey();

    const response = await send(api.app, 'POST', '/tasks', { type: 'sleep', payload: { ms: 5 }, idempotencyKey: bodyKey }, { 'idempotency-key': headerKey });

    expect(response.statusCode).toBe(202);
    expect(await rowsWithKey(headerKey)).toEqual([response.json<SubmitTaskResponse>().id]);
    expect(await rowsWithKey(bodyKey)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['another payload', { type: 'sleep', payload: { ms: 6 } }],
    ['another option', { type: 'sleep', payload: { ms: 5 }, priority: 1 }],
    ['another type', { type: 'noop', payload: {} }],
  ])('refuses the same key with %s: 422 idempotency-key-reused, nothing stored or queued', async (_case, otherBody) => {
    const key = newKey();
    const first = await send(api.app, 'POST', '/tasks', { type: 'sleep', payload: { ms: 5 } }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();

    const reused = await send(api.app, 'POST', '/tasks', otherBody, { 'idempotency-key': key });

    expect(reused.statusCode).toBe(422);
    expect(reused.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(reused.json()).toMatchObject({ type: '/problems/idempotency-key-reused', status: 422 });
    expect(reused.json<{ detail: string }>().detail).toContain(first.json<SubmitTaskResponse>().id);
    expect(await countTasks(api.db.url)).toBe(rowsBefore);
    expect(await jobCount()).toBe(jobsBefore);
  });

  it.each([
    ['a key with a space', 'two words'],
    ['a key longer than 200 characters', 'k'.repeat(201)],
  ])('refuses %s with a 400 problem', async (_case, key) => {
    const response = await send(api.app, 'POST', '/tasks', { type: 'noop', payload: {} }, { 'idempotency-key': key });

    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<{ errors: Array<{ field: string }> }>().errors.map((error) => error.field)).toEqual(['Idempotency-Key']);
  });

  it('creates exactly one task for 50 concurrent identical requests, and all 50 answers carry its id', async () => {
    const key = newKey();
    const body = { type: 'sleep', payload: { ms: 5 } };

    const responses = await Promise.all(Array.from({ length: 50 }, () => send(api.app, 'POST', '/tasks', body, { 'idempotency-key': key })));

    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(49);
    const ids = new Set(responses.map((response) => response.json<SubmitTaskResponse>().id));
    expect(ids.size).toBe(1);
    expect(await rowsWithKey(key)).toEqual([...ids]);
    const [id = 'none'] = [...ids];
    expect(await api.producer.queue('sleep').getJob(id)).toBeDefined();
  });

  it('refuses 49 of 50 concurrent requests with the same key but different bodies with 422', async () => {
    const key = newKey();

    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, ms) => send(api.app, 'POST', '/tasks', { type: 'sleep', payload: { ms } }, { 'idempotency-key': key })),
    );

    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    expect(statuses.filter((status) => status === 422)).toHaveLength(49);
    expect(await rowsWithKey(key)).toHaveLength(1);
  });

  it('still replays the original task after it completed and its job left Redis', async () => {
    const key = newKey();
    const body = { type: 'noop', payload: { note: 'once' } };
    const first = await send(api.app, 'POST', '/tasks', body, { 'idempotency-key': key });
    const { id } = first.json<SubmitTaskResponse>();
    await waitForStatus(api.db.url, id, 'completed');
    await api.worker.close();
    await deleteRedisPrefix(api.prefix);
    expect(await api.producer.queue('noop').getJob(id)).toBeUndefined();

    const replay = await send(api.app, 'POST', '/tasks', body, { 'idempotency-key': key });

    expect(replay.statusCode).toBe(200);
    expect(replay.json<SubmitTaskResponse>()).toMatchObject({ id, type: 'noop', status: 'completed' });
    expect(await rowsWithKey(key)).toEqual([id]);
    expect(await api.producer.queue('noop').getJob(id)).toBeUndefined();
    expect(await jobCount()).toBe(0);
  });
});
