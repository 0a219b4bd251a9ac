import { waitFor } from '@taskq/testing';
import { duplicateCompletions, recoveryBoundMs, reportFigures, useFaultStack } from './support/fault-stack';

/** F1: SIGKILL a worker in the middle of its jobs. Another worker takes them; the cut-short runs are on record. */
describe('F1: a worker SIGKILLed mid-job', () => {
  const stackOf = useFaultStack('f1', { workers: 1 });

  it('every task completes on another worker, and each cut-short run is recorded as lost', async () => {
    const stack = stackOf();
    const ids = await stack.submitBulk(Array.from({ length: 20 }, () => ({ type: 'sleep', payload: { ms: 2_000 }, maxAttempts: 3 })));
    await waitFor(async () => (await stack.attempts(ids)).filter((a) => a.outcome === 'running').length >= 10, {
      timeoutMs: 30_000,
      description: 'ten tasks running on w1',
    });

    const killedAt = Date.now();
    await stack.killWorker('w1');
    await stack.startWorker();
    await stack.waitTerminal(ids, recoveryBoundMs(0, 2_000));
    const recoveryMs = Date.now() - killedAt;

    const tasks = await stack.tasks(ids);
    const attempts = await stack.attempts(ids);
    expect(tasks.filter((t) => t.status !== 'completed')).toEqual([]);
    const byW1 = attempts.filter((a) => a.worker_id === 'w1');
    const lost = byW1.filter((a) => a.outcome === 'lost');
    // w1 ran at least ten when it died: none of its runs is left running, every one is completed or lost.
    expect(lost.length).toBeGreaterThanOrEqual(10);
    expect(byW1.every((a) => a.outcome === 'completed' || a.outcome === 'lost')).toBe(true);
    expect(attempts.filter((a) => a.outcome === 'running')).toEqual([]);
    expect(duplicateCompletions(attempts)).toEqual([]);
    expect(attempts.filter((a) => a.outcome === 'completed')).toHaveLength(ids.length);

    reportFigures('F1', { tasks: ids.length, lostRuns: lost.length, redelivered: attempts.length - ids.length, recoveryMs });
  });
});
