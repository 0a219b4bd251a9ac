import { startTcpProxy, waitFor, type TcpProxy } from '@taskq/testing';
import { recoveryBoundMs, reportFigures, useFaultStack } from './support/fault-stack';

const TASKS = 50;

/**
 * F6: the API SIGKILLed right after it committed a bulk submission, before its jobs reached
 * Redis. The rows are the record: the reconciler gives them their jobs and they run.
 * The API reaches Redis through a proxy that the test freezes, so the jobs hang in flight
 * while the test watches PostgreSQL for the commit, then kills the API.
 */
describe('F6: the API SIGKILLed right after a bulk commit', () => {
  let proxy: TcpProxy | undefined;
  const stackOf = useFaultStack('f6', {
    workers: 1,
    apiRedisUrl: async (redisUrl) => {
      proxy = await startTcpProxy(Number(new URL(redisUrl).port));
      return `redis://127.0.0.1:${proxy.port}`;
    },
    cleanup: async () => proxy?.close(),
  });

  it('the committed rows run: the reconciler queues them', async () => {
    const stack = stackOf();
    const keys = Array.from({ length: TASKS }, (_, i) => `f6-${i}`);
    // One task first, as a running API has had: the API knows its queue's backlog, so the bulk
    // does not wait on the frozen proxy for it and commit with a creation time the reconciler
    // already finds old enough to queue.
    await stack.submit({ type: 'noop', payload: {} });
    proxy?.freeze();
    const inFlight = stack.request('POST', '/tasks/bulk', { tasks: keys.map((idempotencyKey) => ({ type: 'noop', payload: {}, idempotencyKey })) }, 60_000).catch((error: Error) => error);
    const rows = await waitFor(
      async () => {
        const found = await stack.query<{ id: string }>('SELECT id FROM tasks WHERE idempotency_key = ANY($1::text[])', [keys]);
        return found.length === TASKS ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 10, description: 'the bulk committed' },
    );
    const killedAt = Date.now();
    await stack.kill(stack.api);
    const ids = rows.map((row) => row.id);

    // The client never got an answer.
    expect(await inFlight).toMatchObject({ message: expect.stringMatching(/fetch failed|terminated/) });
    // Committed, and not queued: the API died between the two.
    expect((await stack.tasks(ids)).every((task) => task.status === 'queued')).toBe(true);
    const jobsAtKill = (await stack.redisKeys('faults:{noop}:*')).filter((key) => ids.some((id) => key.endsWith(id))).length;
    expect(jobsAtKill).toBe(0);

    await stack.waitTerminal(ids, recoveryBoundMs(0, 2_000));
    const recoveryMs = Date.now() - killedAt;
    expect((await stack.tasks(ids)).filter((task) => task.status !== 'completed')).toEqual([]);
    const attempts = await stack.attempts(ids);
    expect(attempts.map((a) => a.outcome)).toEqual(ids.map(() => 'completed'));

    reportFigures('F6', { committedRows: ids.length, jobsAtKill, recoveryMs });
  });
});
