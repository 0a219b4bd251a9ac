import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@taskq/testing';
import { recoveryBoundMs, reportFigures, type SubmitAnswer, useFaultStack } from './support/fault-stack';

const OUTAGE_MS = 30_000;

/**
 * F5: PostgreSQL stopped for 30 s (`pg_ctl stop -m fast`) under steady submissions and running
 * tasks, some with a single attempt. An outage is nobody's failure: the API answers 503 with
 * Retry-After (never 500, never hangs), workers keep their jobs and commit late, and every
 * accepted task completes with exactly one attempt.
 */
describe('F5: PostgreSQL stopped for 30 s under load', () => {
  const stackOf = useFaultStack('f5', { workers: 2 });

  it('answers 503 with Retry-After meanwhile, spends no attempt, and completes everything it accepted', async () => {
    const stack = stackOf();
    const answers: Array<SubmitAnswer & { at: number }> = [];
    const reads: SubmitAnswer[] = [];
    const accepted: string[] = [];
    let submitting = true;
    const kinds = [
      { type: 'sleep', payload: { ms: 400 }, maxAttempts: 1 },
      { type: 'noop', payload: {}, maxAttempts: 1 },
      { type: 'sleep', payload: { ms: 1_200 } },
    ];
    const submitter = (async () => {
      for (let i = 0; submitting; i++) {
        const answer = await stack.request('POST', '/submit-task', kinds[i % kinds.length]).catch((error: Error): SubmitAnswer => ({ status: 0, retryAfter: null, body: { error: error.message }, ms: 15_000 }));
        answers.push({ ...answer, at: Date.now() });
        if (answer.status === 202) accepted.push(String(answer.body['id']));
        if (i % 10 === 0 && accepted.length > 0) reads.push(await stack.request('GET', `/tasks/${accepted[accepted.length - 1]}`).catch((): SubmitAnswer => ({ status: 0, retryAfter: null, body: {}, ms: 15_000 })));
        await sleep(100);
      }
    })();

    await waitFor(() => accepted.length >= 20, { timeoutMs: 30_000, description: 'steady submissions' });
    // A burst that keeps both workers' slots full across the stop: some runs finish during the
    // outage (their outcome waits), others are taken during it (their start waits).
    accepted.push(...(await stack.submitBulk(Array.from({ length: 100 }, () => ({ type: 'sleep', payload: { ms: 2_000 }, maxAttempts: 1 })))));
    await waitFor(async () => (await stack.attempts(accepted)).filter((a) => a.outcome === 'running').length >= 30, { timeoutMs: 30_000, description: 'tasks running' });
    const atStop = await stack.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM tasks GROUP BY status ORDER BY status');
    const stoppedAt = Date.now();
    await stack.postgres.stop('fast');
    await sleep(OUTAGE_MS);
    await stack.postgres.start();
    const restartedAt = Date.now();
    await waitFor(() => answers.filter((answer) => answer.at > restartedAt && answer.status === 202).length >= 20, { timeoutMs: 30_000, description: 'the API accepting again' });
    submitting = false;
    await submitter;

    await stack.waitTerminal(accepted, recoveryBoundMs(0, 5_000));
    const recoveryMs = Date.now() - restartedAt;

    const duringOutage = answers.filter((answer) => answer.at > stoppedAt && answer.at < restartedAt);
    const refused = duringOutage.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status !== 202 && answer.status !== 503)).toEqual([]);
    expect(refused.length).toBeGreaterThan(OUTAGE_MS / 1_000);
    expect(refused.filter((answer) => answer.retryAfter === null)).toEqual([]);
    expect(reads.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(10_000);

    const tasks = await stack.tasks(accepted);
    expect(tasks.filter((t) => t.status !== 'completed')).toEqual([]);
    const attempts = await stack.attempts(accepted);
    // No attempt spent on the outage: one run each, completed; none left running.
    expect(attempts.filter((a) => a.outcome !== 'completed')).toEqual([]);
    expect(attempts).toHaveLength(accepted.length);
    const runningRows = await stack.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_attempts WHERE outcome = 'running'`);
    expect(runningRows[0]?.n).toBe(0);
    const errorLines = (app: 'api' | 'monitor' | 'workers'): string[] => {
      const output = app === 'api' ? stack.api?.output() : app === 'monitor' ? stack.monitor?.output() : [...stack.workers.values()].map((w) => w.output()).join('\n');
      return (output ?? '').split('\n').filter((line) => line.includes('"level":"error"')).map((line) => String((JSON.parse(line) as { msg?: unknown }).msg).slice(0, 160));
    };

    reportFigures('F5', {
      outageMs: restartedAt - stoppedAt,
      atStop: Object.fromEntries(atStop.map((row) => [row.status, row.n])),
      accepted: accepted.length,
      singleAttemptTasks: tasks.filter((t) => t.max_attempts === 1).length,
      refusedWith503: refused.length,
      answered500: 0,
      slowestAnswerMs: Math.max(...answers.map((answer) => answer.ms)),
      // Repeated failures are logged once a minute per kind: these are the error lines of the whole run.
      errorLines: { api: errorLines('api'), workers: errorLines('workers'), monitor: errorLines('monitor') },
      apiLogBytes: (stack.api?.output() ?? '').length,
      recoveryMs,
    });
  });
});
