import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { WorkerConfig } from '@taskq/config';
import { AttemptOutcome, TaskStatus, computeBackoffDelay, validatePayload } from '@taskq/contracts';
import { TaskqMetrics } from '@taskq/observability';
import { TaskStore } from '@taskq/persistence';
import { DeadLetterMirror, type TaskJobData } from '@taskq/queue';
import type { TaskContext } from '../handlers/task-handler';
import { executeWithDeadline, type AttemptResult } from './attempt-execution';
import { HandlerRegistry } from './handler-registry';
import { RunningAttempts } from './running-attempts';
import { retryStoreWrite } from './retry-store-write';

/** Thrown back to BullMQ for a retryable failure; carries the delay already recorded in PostgreSQL. */
export class RetryableAttemptError extends Error {
  override readonly name = 'RetryableAttemptError';
  constructor(
    message: string,
    readonly retryDelayMs: number,
  ) {
    super(message);
  }
}

/**
 * Runs one BullMQ job: records the attempt's start, runs the handler under its deadline,
 * and commits the outcome to PostgreSQL before BullMQ acknowledges the job. Every line
 * logged meanwhile (the handler's included) carries `taskId`, `type` and `attempt`.
 */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('TaskRunner');

  constructor(
    private readonly handlers: HandlerRegistry,
    private readonly store: TaskStore,
    private readonly running: RunningAttempts,
    private readonly deadLetters: DeadLetterMirror,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
    private readonly metrics: TaskqMetrics,
    private readonly pino: PinoLogger,
  ) {}

  /** `token`: the worker's lock on the job, needed to hand it back to the queue at shutdown. */
  run(job: Job<TaskJobData>, token?: string): Promise<unknown> {
    const { taskId, type } = job.data;
    const attempt = job.data.attemptBase + job.attemptsMade + 1;
    return this.pino.runInContext(() => this.runAttempt(job, attempt, token), { bindings: { taskId, type, attempt } });
  }

  private async runAttempt(job: Job<TaskJobData>, attempt: number, token: string | undefined): Promise<unknown> {
    const { taskId, type } = job.data;
    const maxAttempts = job.opts.attempts ?? 1;
    const attemptOfJob = job.attemptsMade + 1;
    const startedAt = new Date();

    // Registered before the start is committed, so a cancellation that lands in between still aborts it.
    const registration = this.running.start(taskId);
    let runnable: boolean;
    try {
      runnable = await this.persist(() => this.store.startAttempt({ taskId, attempt, workerId: this.config.workerId, startedAt }));
    } catch (error) {
      registration.end();
      throw error;
    }
    if (!runnable) {
      registration.end();
      this.logger.warn(`task ${taskId} (${type}) is finished, cancelled or unknown: job acknowledged without running`);
      return null;
    }
    const waitMs = queueWaitMs(job, startedAt);
    if (waitMs !== undefined) this.metrics.recordQueueWait(type, waitMs);
    this.logger.debug({ msg: 'attempt started', ...(waitMs === undefined ? {} : { queueWaitMs: waitMs }) });

    const outcome = await this.execute(job, attempt, maxAttempts, registration.signal).finally(registration.end);
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedAt.getTime();

    if (outcome.kind === 'completed') {
      await this.persist(() => this.store.finishAttempt({
        taskId, attempt, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed,
        result: outcome.result, error: null, finishedAt, durationMs, nextAttemptAt: null,
      }));
      this.metrics.recordAttempt(type, 'completed', durationMs, false);
      this.logger.log({ msg: 'attempt completed', outcome: 'completed', durationMs });
      return outcome.result;
    }

    if (outcome.kind === 'interrupted') {
      // Shutdown deadline: the attempt is recorded but BullMQ's attempt count stays as it was,
      // so the task's budget is intact; the next attempt is numbered after this one.
      const released = await this.persist(() => this.store.releaseAttempt({ taskId, attempt, error: outcome.error, finishedAt, durationMs }));
      if (!released) {
        // Cancelled meanwhile: the attempt is recorded, and the job ends as a cancelled one
        // does rather than going back to the queue for another worker to drop.
        this.metrics.recordAttempt(type, 'interrupted', durationMs, false);
        this.logger.log({ msg: 'attempt interrupted by shutdown; the task was cancelled meanwhile', outcome: 'interrupted', durationMs });
        throw new UnrecoverableError(`task ${taskId} was cancelled`);
      }
      await job.updateData({ ...job.data, attemptBase: job.data.attemptBase + 1 });
      await job.moveToWait(token);
      this.metrics.recordAttempt(type, 'interrupted', durationMs, false);
      this.logger.warn({ msg: 'attempt interrupted by shutdown, handed back to the queue', outcome: 'interrupted', durationMs });
      throw new WaitingError();
    }

    if (outcome.kind === 'cancelled') {
      // The API has already marked the task cancelled; only the attempt is left to record.
      await this.persist(() => this.store.finishAttempt({
        taskId, attempt, outcome: AttemptOutcome.Cancelled, taskStatus: TaskStatus.Cancelled,
        result: null, error: outcome.error, finishedAt, durationMs, nextAttemptAt: null,
      }));
      this.metrics.recordAttempt(type, 'cancelled', durationMs, false);
      this.logger.log({ msg: 'attempt cancelled', outcome: 'cancelled', durationMs });
      throw new UnrecoverableError(`task ${taskId} was cancelled`);
    }

    const permanent = outcome.kind === 'failed' && outcome.permanent;
    const exhausted = attemptOfJob >= maxAttempts;
    const retryDelayMs = permanent || exhausted ? 0 : computeBackoffDelay(job.data.backoff, attemptOfJob);
    const failure = outcome.kind === 'timed_out' ? AttemptOutcome.TimedOut : AttemptOutcome.Failed;
    await this.persist(() => this.store.finishAttempt({
      taskId, attempt,
      outcome: failure,
      taskStatus: permanent || exhausted ? TaskStatus.Dead : TaskStatus.Retrying,
      result: null, error: outcome.error, finishedAt, durationMs,
      nextAttemptAt: permanent || exhausted ? null : new Date(finishedAt.getTime() + retryDelayMs),
    }));
    this.metrics.recordAttempt(type, failure, durationMs, permanent || exhausted);
    this.logger.warn({
      msg: permanent || exhausted ? `attempt ${failure}, task dead` : `attempt ${failure}, retry in ${retryDelayMs} ms`,
      outcome: failure,
      error: outcome.error,
      durationMs,
      ...(permanent || exhausted ? { dead: true } : { retryInMs: retryDelayMs }),
    });
    if (permanent || exhausted) {
      await this.deadLetters
        .add([{ taskId, type, error: outcome.error }])
        .catch((error: Error) => this.logger.warn(`task ${taskId} is dead but not mirrored to the dead-letter queue: ${error.message}`));
    }
    if (permanent) throw new UnrecoverableError(outcome.error);
    throw new RetryableAttemptError(outcome.error, retryDelayMs);
  }

  private persist<T>(write: () => Promise<T>): Promise<T> {
    return retryStoreWrite(write, (error, delayMs) =>
      this.logger.warn(`PostgreSQL write failed (${(error as Error).message}); retrying in ${delayMs} ms`),
    );
  }

  private async execute(job: Job<TaskJobData>, attempt: number, maxAttempts: number, cancel: AbortSignal): Promise<AttemptResult> {
    const { type } = job.data;
    const validation = await validatePayload(type, job.data.payload);
    if (!validation.valid) {
      const fields = validation.errors.map((e) => `${e.field}: ${e.messages.join(', ')}`).join('; ');
      return { kind: 'failed', error: `invalid payload: ${fields}`, permanent: true };
    }
    const handler = this.handlers.get(type);
    return executeWithDeadline(
      (signal) => handler.handle(validation.payload, this.context(job, attempt, job.data.attemptBase + maxAttempts, signal)),
      job.data.timeoutMs,
      cancel,
    );
  }

  private context(job: Job<TaskJobData>, attempt: number, maxAttempts: number, signal: AbortSignal): TaskContext {
    return {
      taskId: job.data.taskId,
      attempt,
      maxAttempts,
      signal,
      progress: async (value) => {
        await job.updateProgress(value);
      },
      // taskId, type and attempt are bound to every line of this attempt (see run()).
      logger: new Logger(`task:${job.data.type}`),
    };
  }
}

/**
 * How long the job waited from when it became runnable (added, plus its delay) to this
 * start. Only a job's first start is measured: a retry's wait is mostly the backoff delay
 * chosen on purpose, and BullMQ keeps no record of when a retry became due. Manual retries
 * and DLQ requeues add a new job, so their first start counts.
 */
function queueWaitMs(job: Job<TaskJobData>, startedAt: Date): number | undefined {
  if (job.attemptsMade > 0 || job.attemptsStarted > 1) return undefined;
  return startedAt.getTime() - (job.timestamp + (job.opts.delay ?? 0));
}
