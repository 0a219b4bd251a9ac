import { setTimeout as sleep } from 'node:timers/promises';
import { duplicateCompletions, recoveryBoundMs, reportFigures, useFaultStack } from './support/fault-stack';

const TASKS = 3_000;
const BATCH = 100;
const KILL_EVERY_MS = 2_000;
const SOAK_MS = 40_000;
/** A run whose job Redis lost while its worker died is given up at its deadline (plus the reconciler's grace): keep it short. */
const TIMEOUT_MS = 5_000;

/**
 * F7: a soak. A few thousand tasks while one worker of three is SIGKILLed every ~2 s (and
 * replaced), with one Redis restart (empty) and one PostgreSQL restart on top. The client
 * retries refused batches with the same idempotency keys, as clients should.
 * Pass: nothing accepted is lost, no task has two terminal states, none is stuck after the bound.
 */
describe('F7: soak with a worker SIGKILLed every ~2 s, a Redis restart and a PostgreSQL restart', () => {
  const stackOf = useFaultStack('f7', { workers: 3 });

  it('loses nothing, finishes each task once, and leaves none stuck', async () => {
    const stack = stackOf();
    const started = Date.now();
    const accepted = new Set<string>();
    let refusedBatches = 0;
    const submitter = (async () => {
      for (let batch = 0; batch < TASKS / BATCH; batch++) {
        const tasks = Array.from({ length: BATCH }, (_, i) => {
          const n = batch * BATCH + i;
          const task = n % 3 === 0 ? { type: 'sleep', payload: { ms: 50 + (n % 5) * 60 } } : { type: 'noop', payload: {} };
          return { ...task, maxAttempts: 20, timeoutMs: TIMEOUT_MS, idempotencyKey: `f7-${n}` };
        });
        for (;;) {
          const answer = await stack.request('POST', '/tasks/bulk', { tasks }).catch(() => undefined);
          if (answer?.status === 202 || answer?.status === 200) {
            for (const task of answer.body['tasks'] as Array<{ id: string }>) accepted.add(task.id);
            break;
          }
          refusedBatches++;
          await sleep(Number(answer?.retryAfter ?? 1) * 200);
        }
        await sleep((SOAK_MS * 0.6) / (TASKS / BATCH));
      }
    })();

    let kills = 0;
    const killer = (async () => {
      while (Date.now() - started < SOAK_MS) {
        const victim = [...stack.workers.keys()][kills % 3];
        const killedAt = Date.now();
        if (victim) await stack.killWorker(victim);
        kills++;
        await stack.startWorker();
        await sleep(Math.max(0, KILL_EVERY_MS - (Date.now() - killedAt)));
      }
    })();

    const faults = (async () => {
      await sleep(10_000);
      await stack.killRedis();
      await sleep(2_000);
      await stack.restartRedisEmpty();
      await sleep(10_000);
      await stack.postgres.stop('fast');
      await sleep(3_000);
      await stack.postgres.start();
    })();

    await Promise.all([submitter, killer, faults]);
    const faultsOverAt = Date.now();
    const ids = [...accepted];
    const bound = recoveryBoundMs(TIMEOUT_MS, 20_000);
    const stuck = await stack
      .waitTerminal(ids, bound)
      .then(() => [])
      .catch(async () => (await stack.tasks(ids)).filter((task) => !['completed', 'dead', 'cancelled'].includes(task.status)));
    const recoveryMs = Date.now() - faultsOverAt;

    const submittedKeys = await stack.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE idempotency_key LIKE 'f7-%'`);
    const tasks = await stack.tasks(ids);
    const attempts = await stack.attempts(ids);
    const lost = ids.length - tasks.length;
    const duplicates = duplicateCompletions(attempts);
    const figures = {
      accepted: ids.length,
      refusedBatches,
      workerKills: kills,
      lost,
      duplicateTerminalStates: duplicates.length,
      stuckAfterBound: stuck.length,
      boundMs: bound,
      dead: tasks.filter((task) => task.status === 'dead').length,
      lostRuns: attempts.filter((a) => a.outcome === 'lost').length,
      interruptedRuns: attempts.filter((a) => a.outcome === 'interrupted').length,
      redelivered: attempts.length - ids.length,
      recoveryAfterLastFaultMs: recoveryMs,
    };
    reportFigures('F7', figures);

    expect(ids.length).toBe(TASKS);
    expect(submittedKeys[0]?.n).toBe(TASKS);
    expect({ lost, duplicates, stuck }).toEqual({ lost: 0, duplicates: [], stuck: [] });
    expect(tasks.filter((task) => task.status !== 'completed')).toEqual([]);
    expect(attempts.filter((a) => a.outcome === 'running')).toEqual([]);
    // Every completed task's last run is its completed one.
    expect(attempts.filter((a) => a.outcome === 'completed')).toHaveLength(ids.length);
  });
});
