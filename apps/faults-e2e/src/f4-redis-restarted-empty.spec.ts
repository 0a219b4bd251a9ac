import { randomUUID } from 'node:crypto';
import { waitFor } from '@taskq/testing';
import { duplicateCompletions, recoveryBoundMs, reportFigures, type SubmitAnswer, useFaultStack } from './support/fault-stack';

/**
 * F4: redis-server killed, and started again on its port without any data. Every process
 * reconnects by itself; while Redis is away submissions get 503 with Retry-After and nothing
 * is stored for them; afterwards everything accepted before runs.
 */
describe('F4: Redis killed and restarted empty', () => {
  const stackOf = useFaultStack('f4', { workers: 2 });

  it('processes reconnect by themselves, the gap answers 503 with Retry-After, and every accepted task completes', async () => {
    const stack = stackOf();
    const ids = await stack.submitBulk([
      ...Array.from({ length: 100 }, () => ({ type: 'sleep', payload: { ms: 1_000 } })),
      ...Array.from({ length: 100 }, () => ({ type: 'noop', payload: {}, delayMs: 3_000 })),
    ]);
    await waitFor(async () => (await stack.attempts(ids)).some((a) => a.outcome === 'running'), { timeoutMs: 30_000, description: 'tasks running' });

    await stack.killRedis();
    const during: Array<SubmitAnswer & { key: string }> = [];
    for (let i = 0; i < 5; i++) {
      const key = `f4-gap-${randomUUID()}`;
      during.push({ key, ...(await stack.request('POST', '/submit-task', { type: 'noop', payload: {}, idempotencyKey: key })) });
    }
    const read = await stack.request('GET', `/tasks/${ids[0]}`);
    const restartedAt = Date.now();
    await stack.restartRedisEmpty();

    // Nobody restarts anything: the API accepts again once its connection is back.
    const after = await waitFor(
      async () => {
        const answer = await stack.request('POST', '/submit-task', { type: 'noop', payload: {} });
        return answer.status === 202 ? answer : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'the API accepting again' },
    );
    const reconnectMs = Date.now() - restartedAt;
    const accepted = [...ids, String(after.body['id'])];
    await stack.waitTerminal(accepted, recoveryBoundMs(0, 5_000));
    const recoveryMs = Date.now() - restartedAt;

    expect(during.map((answer) => [answer.status, answer.retryAfter])).toEqual(during.map(() => [503, '5']));
    expect(Math.max(...during.map((answer) => answer.ms))).toBeLessThan(10_000);
    const refused = await stack.query('SELECT id FROM tasks WHERE idempotency_key = ANY($1::text[])', [during.map((answer) => answer.key)]);
    expect(refused).toEqual([]);
    expect(read.status).toBe(200);
    expect((await stack.tasks(accepted)).filter((t) => t.status !== 'completed')).toEqual([]);
    const attempts = await stack.attempts(accepted);
    expect(duplicateCompletions(attempts)).toEqual([]);
    expect(attempts.filter((a) => a.outcome === 'running')).toEqual([]);
    // The workers kept running: both still serve, and none exited.
    expect([...stack.workers.values()].every((worker) => worker.child.exitCode === null)).toBe(true);

    reportFigures('F4', {
      tasks: ids.length,
      refusedDuringGap: during.length,
      apiAcceptsAgainAfterMs: reconnectMs,
      interruptedRuns: attempts.filter((a) => a.outcome === 'interrupted').length,
      redelivered: attempts.length - accepted.length,
      recoveryMs,
    });
  });
});
