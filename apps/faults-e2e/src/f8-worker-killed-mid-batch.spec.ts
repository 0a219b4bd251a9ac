import { Redis } from 'ioredis';
import { waitFor } from '@taskq/testing';
import { duplicateCompletions, recoveryBoundMs, reportFigures, useFaultStack } from './support/fault-stack';

/** Where BullMQ keeps a job that has not been acknowledged yet (taken or not). */
const UNACKNOWLEDGED = ['wait', 'paused', 'active'] as const;
const UNACKNOWLEDGED_SETS = ['prioritized', 'delayed'] as const;

/**
 * F8: SIGKILL a worker while it drains no-op tasks at full speed, its attempt writes in
 * group-committed batches. Whatever batch was in flight, a job BullMQ no longer holds
 * (acknowledged) has its outcome committed in PostgreSQL.
 */
describe('F8: a worker SIGKILLed mid-batch', () => {
  const stackOf = useFaultStack('f8', { workers: 0 });

  it('leaves no acknowledged job without its committed outcome, and every task completes once', async () => {
    const stack = stackOf();
    const ids: string[] = [];
    for (let round = 0; round < 5; round++) ids.push(...(await stack.submitBulk(Array.from({ length: 1_000 }, () => ({ type: 'noop', payload: {} })))));
    await stack.startWorker({ WORKER_ID: 'w1', WORKER_QUEUES: 'noop', WORKER_CONCURRENCY: 'noop=50' });
    await waitFor(async () => (await completedCount(stack.query.bind(stack), ids)) >= 300, {
      timeoutMs: 60_000,
      intervalMs: 5,
      description: '300 tasks completed by w1',
    });
    const killedAt = Date.now();
    await stack.killWorker('w1');

    const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    let pending: Set<string>;
    try {
      pending = new Set(await unacknowledgedJobs(redis));
    } finally {
      redis.disconnect();
    }
    const acknowledged = ids.filter((id) => !pending.has(id));
    const tasks = new Map((await stack.tasks(ids)).map((task) => [task.id, task.status]));
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    expect(acknowledged.length).toBeLessThan(ids.length);
    expect(acknowledged.filter((id) => tasks.get(id) !== 'completed')).toEqual([]);

    await stack.startWorker({ WORKER_ID: 'w2', WORKER_QUEUES: 'noop', WORKER_CONCURRENCY: 'noop=50' });
    await stack.waitTerminal(ids, recoveryBoundMs(0, 5_000));
    const recoveryMs = Date.now() - killedAt;
    const attempts = await stack.attempts(ids);
    expect((await stack.tasks(ids)).filter((task) => task.status !== 'completed')).toEqual([]);
    expect(duplicateCompletions(attempts)).toEqual([]);
    expect(attempts.filter((a) => a.outcome === 'completed')).toHaveLength(ids.length);
    expect(attempts.filter((a) => a.outcome === 'running')).toEqual([]);

    reportFigures('F8', {
      tasks: ids.length,
      acknowledgedAtKill: acknowledged.length,
      completedInPostgresAtKill: [...tasks.values()].filter((status) => status === 'completed').length,
      lostRuns: attempts.filter((a) => a.outcome === 'lost').length,
      recoveryMs,
    });
  });
});

async function completedCount(query: <T>(sql: string, params?: unknown[]) => Promise<T[]>, ids: string[]): Promise<number> {
  const rows = await query<{ n: string }>("SELECT count(*) AS n FROM tasks WHERE id = ANY($1) AND status = 'completed'", [ids]);
  return Number(rows[0]?.n ?? 0);
}

async function unacknowledgedJobs(redis: Redis): Promise<string[]> {
  const key = (state: string): string => `faults:{noop}:${state}`;
  const lists = await Promise.all(UNACKNOWLEDGED.map((state) => redis.lrange(key(state), 0, -1)));
  const sets = await Promise.all(UNACKNOWLEDGED_SETS.map((state) => redis.zrange(key(state), 0, -1)));
  return [...lists.flat(), ...sets.flat()];
}
