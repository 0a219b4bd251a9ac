import type { CountResponse, CreatedApiKeyView, DeadLetterGroupView, SubmitTaskResponse, TaskPage } from '@taskq/contracts';
import { queryDatabase } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';
import { send } from './testing/test-apps';

jest.setTimeout(30_000);

/**
 * `GET /dlq/groups` and the `error` filter of the dead-letter routes. No worker runs: tasks are
 * submitted through the API, then made dead in PostgreSQL with the error each group needs.
 */
describe('dead-letter groups', () => {
  const api = useApiHarness({ label: 'dlq_groups' });
  let acme: CreatedApiKeyView;

  const submit = async (type: 'noop' | 'sleep', key?: string): Promise<string> => {
    const response = await send(api.app, 'POST', '/tasks', type === 'noop' ? { type, payload: {} } : { type, payload: { ms: 10 } }, key ? { authorization: `Bearer ${key}` } : {});
    expect(response.statusCode).toBe(202);
    return response.json<SubmitTaskResponse>().id;
  };

  /** Dead with this error, dying `secondsAgo` seconds ago. */
  const kill = (ids: string[], error: string | null, secondsAgo = 0): Promise<unknown> =>
    queryDatabase(api.db.url, `UPDATE tasks SET status = 'dead', last_error = $2, finished_at = now() - make_interval(secs => $3) WHERE id = ANY($1::uuid[])`, [ids, error, secondsAgo]);

  const groups = async (key?: string): Promise<DeadLetterGroupView[]> => {
    const response = await send(api.app, 'GET', '/dlq/groups', undefined, key ? { authorization: `Bearer ${key}` } : {});
    expect(response.statusCode).toBe(200);
    return response.json<DeadLetterGroupView[]>();
  };

  const statusOf = async (ids: string[]): Promise<string[]> =>
    (await queryDatabase<{ status: string }>(api.db.url, 'SELECT status FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY status', [ids])).map((row) => row.status);

  const timeout = 'timed out after 100 ms';
  const refused = 'HTTP 500 from http://127.0.0.1/hook';
  let timedOut: string[];
  let refusedIds: string[];
  let silent: string;
  let acmeTimedOut: string;

  beforeAll(async () => {
    const created = await send(api.app, 'POST', '/keys', { name: 'acme', scopes: ['tasks:read', 'tasks:write'], tenant: 'acme' });
    acme = created.json<CreatedApiKeyView>();
    timedOut = [await submit('sleep'), await submit('sleep'), await submit('sleep')];
    refusedIds = [await submit('noop'), await submit('noop')];
    silent = await submit('noop');
    acmeTimedOut = await submit('sleep', acme.key);
    await kill(timedOut, timeout, 30);
    await kill(refusedIds, refused, 10);
    await kill([silent], null);
    await kill([acmeTimedOut], timeout, 5);
  });

  it('counts the dead tasks by type and last error, biggest group first, with the first and last death', async () => {
    const all = await groups();
    expect(all.map(({ type, error, count }) => ({ type, error, count }))).toEqual([
      { type: 'sleep', error: timeout, count: 4 },
      { type: 'noop', error: refused, count: 2 },
      { type: 'noop', error: null, count: 1 },
    ]);
    const sleep = all[0] as DeadLetterGroupView;
    expect(Date.parse(sleep.lastDiedAt) - Date.parse(sleep.firstDiedAt)).toBeGreaterThanOrEqual(24_000);
  });

  it("shows a tenant's key only its own tenant's dead tasks", async () => {
    expect(await groups(acme.key)).toEqual([expect.objectContaining({ type: 'sleep', error: timeout, count: 1 })]);
  });

  it('lists, requeues and deletes exactly one group with type and error', async () => {
    const listed = await send(api.app, 'GET', `/dlq?type=noop&error=${encodeURIComponent(refused)}`);
    expect(listed.json<TaskPage>().items.map((task) => task.id).sort()).toEqual([...refusedIds].sort());

    const requeued = await send(api.app, 'POST', `/dlq/requeue?type=noop&error=${encodeURIComponent(refused)}`);
    expect(requeued.json<CountResponse>()).toEqual({ count: 2 });
    expect(await statusOf(refusedIds)).toEqual(['queued', 'queued']);
    expect(await statusOf([silent, ...timedOut])).toEqual(['dead', 'dead', 'dead', 'dead']);

    const deleted = await send(api.app, 'DELETE', `/dlq?type=sleep&error=${encodeURIComponent(timeout)}`);
    expect(deleted.json<CountResponse>()).toEqual({ count: 4 });
    expect((await groups()).map(({ type, error, count }) => ({ type, error, count }))).toEqual([{ type: 'noop', error: null, count: 1 }]);
  });

  it('refuses an error filter longer than 10,000 characters with a 400, changing nothing', async () => {
    const response = await send(api.app, 'DELETE', `/dlq?error=${'x'.repeat(10_001)}`);
    expect(response.statusCode).toBe(400);
    expect(await statusOf([silent])).toEqual(['dead']);
  });
});
