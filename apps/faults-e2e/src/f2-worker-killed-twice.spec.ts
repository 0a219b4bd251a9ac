import { waitFor } from '@taskq/testing';
import { recoveryBoundMs, reportFigures, useFaultStack } from './support/fault-stack';

/**
 * F2: the same job's worker SIGKILLed twice (a long task on a deploy that restarts twice).
 * BullMQ alone would fail the job on its second stall without running it; taskq charges each
 * lost run to the task's budget in PostgreSQL and runs it again while the budget lasts.
 */
describe("F2: the same job's worker SIGKILLed twice", () => {
  const stackOf = useFaultStack('f2', { workers: 1 });

  it('the task completes within the bound, with both lost runs on record', async () => {
    const stack = stackOf();
    const id = await stack.submit({ type: 'sleep', payload: { ms: 3_000 }, maxAttempts: 3 });
    const runningOn = (workerId: string) => async () =>
      (await stack.attempts([id])).some((a) => a.worker_id === workerId && a.outcome === 'running');

    await waitFor(runningOn('w1'), { timeoutMs: 30_000, description: 'the task running on w1' });
    const firstKill = Date.now();
    await stack.killWorker('w1');
    await stack.startWorker();
    await waitFor(runningOn('w2'), { timeoutMs: recoveryBoundMs(0, 0), description: 'the task running again, on w2' });
    const secondKill = Date.now();
    await stack.killWorker('w2');
    await stack.startWorker();
    await stack.waitTerminal([id], recoveryBoundMs(0, 3_000));

    const [task] = await stack.tasks([id]);
    expect(task).toMatchObject({ status: 'completed', attempts_made: 3, attempt_base: 0 });
    expect((await stack.attempts([id])).map((a) => [a.number, a.worker_id, a.outcome])).toEqual([
      [1, 'w1', 'lost'],
      [2, 'w2', 'lost'],
      [3, 'w3', 'completed'],
    ]);
    const answer = await stack.request('GET', `/tasks/${id}`);
    expect((answer.body['attempts'] as Array<{ outcome: string }>).map((a) => a.outcome)).toEqual(['lost', 'lost', 'completed']);

    reportFigures('F2', { lostRuns: 2, redeliveryAfterFirstKillMs: secondKill - firstKill, recoveryAfterSecondKillMs: Date.now() - secondKill });
  });
});
