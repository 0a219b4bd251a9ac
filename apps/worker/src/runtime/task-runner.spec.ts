import { Logger } from '@nestjs/common';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { PinoLogger } from 'nestjs-pino';
import type { WorkerConfig } from '@taskq/config';
import type { TaskqMetrics } from '@taskq/observability';
import type { TaskStore } from '@taskq/persistence';
import type { DeadLetterMirror, TaskJobData } from '@taskq/queue';
import type { HandlerRegistry } from './handler-registry';
import { RunningAttempts } from './running-attempts';
import { TaskRunner } from './task-runner';

/** A noop job whose handler runs until the worker's shutdown deadline interrupts it. */
function interruptedAttempt(released: boolean) {
  let handlerStarted!: () => void;
  const started = new Promise<void>((resolve) => (handlerStarted = resolve));
  const handler = {
    handle: () => {
      handlerStarted();
      return new Promise<never>(() => undefined);
    },
  };
  const store = { startAttempt: jest.fn(async () => true), releaseAttempt: jest.fn(async () => released) };
  const running = new RunningAttempts();
  const sut = new TaskRunner(
    { get: () => handler } as unknown as HandlerRegistry,
    store as unknown as TaskStore,
    running,
    {} as DeadLetterMirror,
    { workerId: 'worker-1' } as WorkerConfig,
    { recordQueueWait: jest.fn(), recordAttempt: jest.fn() } as unknown as TaskqMetrics,
    { runInContext: (run: () => unknown) => run() } as unknown as PinoLogger,
  );
  const job = {
    data: { taskId: 'task-1', type: 'noop', payload: {}, backoff: { type: 'fixed', delayMs: 10 }, timeoutMs: 60_000, attemptBase: 0 },
    opts: { attempts: 3 },
    attemptsMade: 0,
    attemptsStarted: 1,
    timestamp: Date.now(),
    updateData: jest.fn(async () => undefined),
    moveToWait: jest.fn(async () => 0),
  };
  const result = sut.run(job as unknown as Job<TaskJobData>, 'lock-token');
  return { result, started, running, store, job };
}

describe(TaskRunner.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('hands an attempt interrupted by shutdown back to the queue, one attempt outside the budget', async () => {
    const { result, started, running, store, job } = interruptedAttempt(true);
    await started;
    running.interruptAll();

    await expect(result).rejects.toBeInstanceOf(WaitingError);
    expect(store.releaseAttempt).toHaveBeenCalledWith(expect.objectContaining({ taskId: 'task-1', attempt: 1 }));
    expect(job.updateData).toHaveBeenCalledWith(expect.objectContaining({ attemptBase: 1 }));
    expect(job.moveToWait).toHaveBeenCalledWith('lock-token');
  });

  it('ends the job of an interrupted attempt whose task was cancelled meanwhile instead of handing it back', async () => {
    const { result, started, running, store, job } = interruptedAttempt(false);
    await started;
    running.interruptAll();

    await expect(result).rejects.toBeInstanceOf(UnrecoverableError);
    expect(store.releaseAttempt).toHaveBeenCalledTimes(1);
    expect(job.updateData).not.toHaveBeenCalled();
    expect(job.moveToWait).not.toHaveBeenCalled();
  });
});
