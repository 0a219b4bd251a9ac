import { Logger } from '@nestjs/common';
import { UnrecoverableError, WaitingError } from 'bullmq';
import pino from 'pino';
import type { WorkerConfig } from '@taskq/config';
import { AttemptOutcome, TaskStatus } from '@taskq/contracts';
import type { AttemptFinish, AttemptReleaseResult, AttemptStartResult, TaskToRun } from '@taskq/persistence';
import type { PendingRecord, TaskJobData } from '@taskq/queue';
import { RunningAttempts } from './running-attempts';
import { RetryableAttemptError, TaskRunner } from './task-runner';

/** The task as PostgreSQL hands it to a starting run. */
const task: TaskToRun = { payload: {}, backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 'none' }, timeoutMs: 60_000 };

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

interface Scenario {
  handle?: () => Promise<unknown>;
  start?: AttemptStartResult;
  /** The first `startOutages` starts fail as if PostgreSQL were down. */
  startOutages?: number;
  /** Every finish fails as if PostgreSQL were down. */
  finishDown?: boolean;
  released?: AttemptReleaseResult;
  pendingRecord?: PendingRecord;
}

/** A TaskRunner over fakes of its collaborators: the attempt log answers as the scenario says. */
function runnerFor(scenario: Scenario) {
  let handlerStarted!: () => void;
  const started = new Promise<void>((resolve) => (handlerStarted = resolve));
  const handler = {
    handle: jest.fn(() => {
      handlerStarted();
      return scenario.handle?.() ?? Promise.resolve({ done: true });
    }),
  };
  let outages = scenario.startOutages ?? 0;
  const attempts = {
    start: jest.fn(async (): Promise<AttemptStartResult> => {
      if (outages-- > 0) throw refused();
      return scenario.start ?? { kind: 'run', number: 1, attemptBase: 0, maxAttempts: 3, lostRuns: 0, task };
    }),
    finish: jest.fn(async (_finish: AttemptFinish) => {
      if (scenario.finishDown) throw refused();
      return true;
    }),
    release: jest.fn(async (): Promise<AttemptReleaseResult> => scenario.released ?? 'released'),
  };
  const running = new RunningAttempts();
  const metrics = { recordQueueWait: jest.fn(), recordAttempt: jest.fn(), recordLostRuns: jest.fn() };
  const deadLetters = { add: jest.fn(async () => undefined) };
  const sut = new TaskRunner({ get: () => handler }, attempts, running, deadLetters, { workerId: 'worker-1' } as WorkerConfig, metrics, { logger: pino({ level: 'silent' }) }, { report: async () => true });
  const job = {
    data: {
      taskId: 'task-1', type: 'noop',
      ...(scenario.pendingRecord ? { pendingRecord: scenario.pendingRecord } : {}),
    } as TaskJobData,
    opts: { attempts: 3 },
    attemptsMade: 0,
    attemptsStarted: 1,
    timestamp: Date.now(),
    updateData: jest.fn(async (data: TaskJobData) => {
      job.data = data;
    }),
    moveToWait: jest.fn(async () => 0),
    updateProgress: jest.fn(async () => undefined),
  };
  const result = sut.run(job, 'lock-token');
  result.catch(() => undefined);
  return { result, started, running, attempts, job, handler, metrics, deadLetters };
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

describe(TaskRunner.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('runs the attempt PostgreSQL numbered and commits its result before answering BullMQ', async () => {
    const { result, attempts } = runnerFor({ start: { kind: 'run', number: 4, attemptBase: 3, maxAttempts: 2, lostRuns: 1, task } });

    await expect(result).resolves.toEqual({ done: true });
    expect(attempts.finish).toHaveBeenCalledWith(expect.objectContaining({ taskId: 'task-1', attempt: 4, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed }));
  });

  it('waits out a PostgreSQL outage before the start instead of failing the job', async () => {
    const { result, attempts, handler } = runnerFor({ startOutages: 2 });

    await expect(result).resolves.toEqual({ done: true });
    expect(attempts.start).toHaveBeenCalledTimes(3);
    expect(handler.handle).toHaveBeenCalledTimes(1);
  });

  it('charges a failure to the budget PostgreSQL keeps: a retry while runs are left, dead (and mirrored) once they are spent', async () => {
    const failing = (): Promise<never> => Promise.reject(new Error('boom'));
    const retried = runnerFor({ handle: failing, start: { kind: 'run', number: 5, attemptBase: 3, maxAttempts: 3, lostRuns: 0, task } });
    await expect(retried.result).rejects.toBeInstanceOf(RetryableAttemptError);
    expect(retried.attempts.finish).toHaveBeenCalledWith(expect.objectContaining({ attempt: 5, taskStatus: TaskStatus.Retrying }));

    // Two runs of this budget were lost before: this failure is the third of three.
    const dead = runnerFor({ handle: failing, start: { kind: 'run', number: 3, attemptBase: 0, maxAttempts: 3, lostRuns: 2, task } });
    await expect(dead.result).rejects.toBeInstanceOf(UnrecoverableError);
    expect(dead.attempts.finish).toHaveBeenCalledWith(expect.objectContaining({ attempt: 3, taskStatus: TaskStatus.Dead, error: 'boom' }));
    expect(dead.deadLetters.add).toHaveBeenCalledWith([{ taskId: 'task-1', type: 'noop', error: 'boom' }]);
  });

  it('fails the job for good without running it when lost runs spent the budget', async () => {
    const { result, handler, deadLetters, metrics } = runnerFor({ start: { kind: 'spent', lostRuns: 1 } });

    await expect(result).rejects.toBeInstanceOf(UnrecoverableError);
    expect(handler.handle).not.toHaveBeenCalled();
    expect(deadLetters.add).toHaveBeenCalledTimes(1);
    expect(metrics.recordLostRuns).toHaveBeenCalledWith('noop', 1, true);
  });

  it('hands an attempt interrupted by shutdown back to the queue, one attempt outside the budget', async () => {
    const { result, started, running, attempts, job } = runnerFor({ handle: never });
    await started;
    running.interruptAll();

    await expect(result).rejects.toBeInstanceOf(WaitingError);
    expect(attempts.release).toHaveBeenCalledWith(expect.objectContaining({ taskId: 'task-1', attempt: 1 }));
    expect(job.moveToWait).toHaveBeenCalledWith('lock-token');
    expect(job.updateData).not.toHaveBeenCalled();
  });

  it('ends the job of an interrupted attempt whose task was cancelled meanwhile instead of handing it back', async () => {
    const { result, started, running, attempts, job } = runnerFor({ handle: never, released: 'finished' });
    await started;
    running.interruptAll();

    await expect(result).rejects.toBeInstanceOf(UnrecoverableError);
    expect(attempts.release).toHaveBeenCalledTimes(1);
    expect(job.moveToWait).not.toHaveBeenCalled();
  });

  it('at shutdown with PostgreSQL away, hands the job back carrying the outcome it could not commit', async () => {
    let finishHandler!: () => void;
    const handled = new Promise<void>((resolve) => (finishHandler = resolve));
    const { result, running, attempts, job } = runnerFor({
      finishDown: true,
      handle: () => {
        finishHandler();
        return Promise.resolve({ sent: 1 });
      },
    });
    await handled;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(attempts.finish).toHaveBeenCalled();
    running.interruptAll();

    await expect(result).rejects.toBeInstanceOf(WaitingError);
    expect(job.data.pendingRecord).toMatchObject({ kind: 'finish', attempt: 1, outcome: AttemptOutcome.Completed, result: { sent: 1 } });
    expect(job.moveToWait).toHaveBeenCalledWith('lock-token');
  }, 20_000);

  it('commits an outcome a stopped worker left in the job instead of running the handler again', async () => {
    const pendingRecord: PendingRecord = {
      kind: 'finish', attempt: 2, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed, result: { sent: 1 }, error: null,
      finishedAt: new Date().toISOString(), durationMs: 7, nextAttemptAt: null,
    };
    const { result, handler, attempts } = runnerFor({ pendingRecord });

    await expect(result).resolves.toEqual({ sent: 1 });
    expect(handler.handle).not.toHaveBeenCalled();
    expect(attempts.start).not.toHaveBeenCalled();
    expect(attempts.finish).toHaveBeenCalledWith(expect.objectContaining({ attempt: 2, durationMs: 7, result: { sent: 1 } }));
  });

  it('commits an owed retry once, clearing it from the job before BullMQ retries', async () => {
    const pendingRecord: PendingRecord = {
      kind: 'finish', attempt: 1, outcome: AttemptOutcome.Failed, taskStatus: TaskStatus.Retrying, result: null, error: 'boom',
      finishedAt: new Date().toISOString(), durationMs: 7, nextAttemptAt: new Date(Date.now() + 60_000).toISOString(),
    };
    const { result, job } = runnerFor({ pendingRecord });

    const error = (await result.catch((e: unknown) => e)) as RetryableAttemptError;
    expect(error).toBeInstanceOf(RetryableAttemptError);
    expect(error.retryDelayMs).toBeGreaterThan(50_000);
    expect(job.data.pendingRecord).toBeUndefined();
  });
});
