import type { BulkSubmitResponse } from '@taskq/contracts';
import { queryDatabase } from '@taskq/testing';
import { TasksController } from './tasks.controller';
import { PROBLEM_JSON, countTasks, send } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(30_000);

/** `POST /tasks/bulk` with an `Idempotency-Key` header: the whole request is idempotent, as a single submission is. */
describe(`${TasksController.name} POST /tasks/bulk with Idempotency-Key`, () => {
  const api = useApiHarness({ label: 'bulk_idempotency' });

  const jobCount = async (): Promise<number> => {
    let total = 0;
    for (const queue of api.producer.allQueues()) total += Object.values(await queue.getJobCounts()).reduce((sum, n) => sum + n, 0);
    return total;
  };

  const bulk = (tasks: unknown[], key: string) => send(api.app, 'POST', '/tasks/bulk', { tasks }, { 'idempotency-key': key });

  it('answers a replay of the same tasks with 200 and the original tasks, storing and queueing nothing more', async () => {
    const tasks = [
      { type: 'noop', payload: { note: 'replay-a' } },
      { type: 'sleep', payload: { ms: 1 }, priority: 3 },
    ];
    const first = await bulk(tasks, 'bulk-replay-1');
    const rowsAfterFirst = await countTasks(api.db.url);
    const jobsAfterFirst = await jobCount();

    // The same tasks, their fields in another order: the same request.
    const replay = await bulk([{ payload: { note: 'replay-a' }, type: 'noop' }, { priority: 3, type: 'sleep', payload: { ms: 1 } }], 'bulk-replay-1');

    expect(first.statusCode).toBe(202);
    expect(replay.statusCode).toBe(200);
    expect(replay.json<BulkSubmitResponse>()).toEqual(first.json<BulkSubmitResponse>());
    expect(await countTasks(api.db.url)).toBe(rowsAfterFirst);
    expect(await jobCount()).toBe(jobsAfterFirst);
    const ids = first.json<BulkSubmitResponse>().tasks.map((task) => task.id);
    const rows = await queryDatabase<{ id: string; idempotency_key: string }>(api.db.url, 'SELECT id, idempotency_key FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY idempotency_key', [ids]);
    expect(rows).toEqual([
      { id: ids[0], idempotency_key: 'bulk-replay-1:0' },
      { id: ids[1], idempotency_key: 'bulk-replay-1:1' },
    ]);
  });

  it('refuses other tasks under a key already used, even a request that only adds a task: 422, nothing stored', async () => {
    const tasks = [{ type: 'noop', payload: { note: 'first' } }];
    expect((await bulk(tasks, 'bulk-replay-2')).statusCode).toBe(202);
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await jobCount();

    for (const other of [[{ type: 'noop', payload: { note: 'second' } }], [...tasks, { type: 'noop', payload: { note: 'more' } }]]) {
      const response = await bulk(other, 'bulk-replay-2');
      expect(response.statusCode).toBe(422);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.json<{ type: string }>().type).toBe('/problems/idempotency-key-reused');
    }
    expect(await countTasks(api.db.url)).toBe(rowsBefore);
    expect(await jobCount()).toBe(jobsBefore);
  });

  it('refuses a malformed key with 400, before anything is stored', async () => {
    const rowsBefore = await countTasks(api.db.url);
    for (const key of ['has space', 'k'.repeat(197)]) {
      const response = await bulk([{ type: 'noop', payload: {} }], key);
      expect(response.statusCode).toBe(400);
      expect(response.json<{ errors: Array<{ field: string }> }>().errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    }
    expect(await countTasks(api.db.url)).toBe(rowsBefore);
  });
});
