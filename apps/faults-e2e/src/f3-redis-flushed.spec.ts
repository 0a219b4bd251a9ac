import { waitFor } from '@taskq/testing';
import { RECONCILE_GRACE_MS, RECONCILE_INTERVAL_MS, duplicateCompletions, recoveryBoundMs, reportFigures, useFaultStack } from './support/fault-stack';

/** Every "reconciler repaired N" the monitor logged. */
const repairedByMonitor = (output: string): number => [...output.matchAll(/reconciler repaired (\d+) disagreement/g)].reduce((sum, match) => sum + Number(match[1]), 0);

/** F3: FLUSHALL with about a thousand tasks queued, delayed and running. PostgreSQL is the record: all of them still run. */
describe('F3: FLUSHALL under about a thousand queued, delayed and active tasks', () => {
  // Only sleep tasks run before the flush: the noop ones wait in their queue.
  const stackOf = useFaultStack('f3', { workers: 0, prepare: (stack) => stack.startWorker({ WORKER_QUEUES: 'sleep' }) });

  it('every accepted task completes', async () => {
    const stack = stackOf();
    const ids = await stack.submitBulk([
      ...Array.from({ length: 600 }, () => ({ type: 'noop', payload: {} })),
      ...Array.from({ length: 200 }, () => ({ type: 'noop', payload: {}, delayMs: 4_000 })),
      ...Array.from({ length: 200 }, () => ({ type: 'sleep', payload: { ms: 1_500 } })),
    ]);
    await waitFor(async () => (await stack.attempts(ids)).filter((a) => a.outcome === 'running').length >= 10, { timeoutMs: 30_000, description: 'sleep tasks running' });
    const before = await stack.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM tasks GROUP BY status ORDER BY status');

    const flushedAt = Date.now();
    await stack.flushRedis();
    expect(await stack.redisKeys('faults:*')).toEqual([]);
    await stack.startWorker();
    await stack.waitTerminal(ids, recoveryBoundMs(0, 15_000));
    const recoveryMs = Date.now() - flushedAt;

    const tasks = await stack.tasks(ids);
    expect(tasks.filter((t) => t.status !== 'completed')).toEqual([]);
    const attempts = await stack.attempts(ids);
    expect(duplicateCompletions(attempts)).toEqual([]);
    expect(attempts.filter((a) => a.outcome === 'running')).toEqual([]);
    // The delayed ones kept their run time.
    const early = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND run_at IS NOT NULL AND started_at < run_at`,
      [ids],
    );
    expect(early[0]?.n).toBe(0);
    const repaired = repairedByMonitor(stack.monitor?.output() ?? '');
    expect(repaired).toBeGreaterThan(0);

    reportFigures('F3', {
      tasks: ids.length,
      atFlush: Object.fromEntries(before.map((row) => [row.status, row.n])),
      repairedByReconciler: repaired,
      redelivered: attempts.length - ids.length,
      recoveryMs,
      reconcilerWindowMs: RECONCILE_INTERVAL_MS + RECONCILE_GRACE_MS,
    });
  });
});
