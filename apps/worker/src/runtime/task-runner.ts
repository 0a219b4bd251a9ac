import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { WorkerConfig } from '@taskq/config';
import { AttemptOutcome, TaskStatus, computeBackoffDelay, progressValueProblem, validatePayload, type TaskProgress, type TaskType } from '@taskq/contracts';
import { TaskqMetrics, endAttemptSpan, startAttemptSpan, throttledLog, tracingEnabled, withinSpan } from '@taskq/observability';
import { AttemptLog, LOST_RUN_ERROR, ProgressLog, isStoreUnavailable, type AttemptFinish, type AttemptRelease, type AttemptStartResult } from '@taskq/persistence';
import { DeadLetterMirror, queueNameFor, type PendingRecord, type TaskJobData } from '@taskq/queue';
import { chargedAttempts, isBudgetSpent, lastAttemptNumber } from '@taskq/tasks';
import type { TaskContext } from '../handlers/task-handler';
import { executeWithDeadline, type AttemptResult } from './attempt-execution';
import { attemptLogger, type AttemptBindings } from './attempt-logger';
import { HandlerRegistry } from './handler-registry';
import { ProgressThrottle } from './progress-throttle';
import { RunningAttempts } from './running-attempts';
import { StoreUnavailableError, writeWhenStored } from './write-when-stored';

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

type Run = Extract<AttemptStartResult, { kind: 'run' }>;

/** What the runner uses of a BullMQ job. */
export type RunnableJob = Pick<Job<TaskJobData>, 'data' | 'opts' | 'attemptsMade' | 'attemptsStarted' | 'timestamp' | 'updateData' | 'moveToWait' | 'updateProgress'>;

/** The runner's collaborators, as much of each as it uses (injected as their classes). */
export interface HandlerLookup {
  get(type: TaskType): { handle(payload: unknown, context: TaskContext): Promise<unknown> };
}
export type AttemptRecords = Pick<AttemptLog, 'start' | 'finish' | 'release'>;
export type ProgressRecords = Pick<ProgressLog, 'report'>;

/** `ctx.progress` with a value that is not a 0–100 percentage or a JSON object of at most 4 KiB: nothing is stored. */
export class ProgressValueError extends TypeError {
  override readonly name = 'ProgressValueError';
}
export type DeadLetterRecords = Pick<DeadLetterMirror, 'add'>;
export type AttemptMetrics = Pick<TaskqMetrics, 'recordQueueWait' | 'recordAttempt' | 'recordLostRuns'>;
export type LoggerSource = Pick<PinoLogger, 'logger'>;

/**
 * Runs one BullMQ job: records the attempt's start, runs the handler under its deadline,
 * and commits the outcome to PostgreSQL before BullMQ acknowledges the job.
 *
 * PostgreSQL decides: it numbers every run, declares earlier runs whose worker vanished
 * `lost`, and keeps the attempt budget. While it is unreachable, a start or an outcome waits
 * (BullMQ keeps renewing the job's lock), so an outage costs no attempt and a finished
 * handler is not run again. A worker that must stop meanwhile hands the job back with what
 * it still owes ({@link PendingRecord}), and the next worker commits that first.
 */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('TaskRunner');
  private readonly logStoreWait = throttledLog((message) => this.logger.warn(message));
  private readonly logProgressLoss = throttledLog((message) => this.logger.warn(message));
  /** Completed and cancelled attempts are logged at info: at warn, their lines are not even built. */
  private readonly logsInfo: boolean;

  constructor(
    @Inject(HandlerRegistry) private readonly handlers: HandlerLookup,
    @Inject(AttemptLog) private readonly attempts: AttemptRecords,
    private readonly running: RunningAttempts,
    @Inject(DeadLetterMirror) private readonly deadLetters: DeadLetterRecords,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
    @Inject(TaskqMetrics) private readonly metrics: AttemptMetrics,
    @Inject(PinoLogger) private readonly pino: LoggerSource,
    @Inject(ProgressLog) private readonly progress: ProgressRecords,
  ) {
    this.logsInfo = pino.logger?.isLevelEnabled('info') ?? true;
  }

  /**
   * One job, as a short pipeline: pay what a stopped worker owed, start (PostgreSQL decides
   * whether and as which attempt it runs), execute, settle the outcome.
   * `token`: the worker's lock on the job, needed to hand it back to the queue.
   */
  async run(job: RunnableJob, token?: string): Promise<unknown> {
    const pending = job.data.pendingRecord;
    if (pending?.kind === 'finish') return this.settle(job, token, finishOf(job.data.taskId, pending), true);
    if (pending?.kind === 'release') await this.releaseOwed(job, token, pending);

    // Registered before the start is committed, so a cancellation that lands in between still aborts it.
    const registration = this.running.start(job.data.taskId);
    const startedAt = new Date();
    let run: Run | undefined;
    try {
      run = await this.start(job, token, startedAt);
    } finally {
      if (!run) registration.end();
    }
    if (!run) return null;
    const waitMs = this.recordQueueWait(job, startedAt);
    const progress = this.progressOf(job, run);
    // With tracing on, the attempt runs in its consumer span ("process <queue>"); off, nothing is built for it.
    const span = tracingEnabled()
      ? startAttemptSpan({ queue: queueNameFor(job.data.type), taskId: job.data.taskId, attempt: run.number, queueWaitMs: waitMs, carrier: job.data.trace })
      : undefined;
    const executing = span ? withinSpan(span, () => this.execute(job, run, registration.signal, progress)) : this.execute(job, run, registration.signal, progress);
    const outcome = await executing.finally(registration.end);
    if (span) endAttemptSpan(span, outcome.kind, outcome.kind === 'completed' ? undefined : outcome.error);
    // The last value reported lands before the outcome, which ends the run's right to report.
    await progress.settle();
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    if (outcome.kind === 'interrupted') return this.release(job, token, { taskId: job.data.taskId, attempt: run.number, error: outcome.error, finishedAt, durationMs });
    return this.settle(job, token, finishFor(job.data.taskId, run, outcome, finishedAt, durationMs), false);
  }

  /** Records the start; undefined when there is nothing to run (the job is then acknowledged, failed or handed back). */
  private async start(job: RunnableJob, token: string | undefined, startedAt: Date): Promise<Run | undefined> {
    const { taskId, type } = job.data;
    let started: AttemptStartResult;
    try {
      started = await this.record((retried) => this.attempts.start({ taskId, workerId: this.config.workerId, startedAt, retried }));
    } catch (error) {
      // Nothing was recorded: the job goes back as it came.
      if (error instanceof StoreUnavailableError) return this.handBack(job, token, undefined, 'PostgreSQL did not answer before shutdown: job handed back unstarted');
      throw error;
    }
    if (started.lostRuns > 0) {
      this.metrics.recordLostRuns(type, started.lostRuns, started.kind === 'spent');
      this.logger.warn({ msg: `task ${taskId} (${type}): ${started.lostRuns} earlier run(s) recorded as lost: ${LOST_RUN_ERROR}`, taskId, type });
    }
    if (started.kind === 'run') return started;
    if (started.kind === 'skip') {
      this.logger.warn({ msg: `task ${taskId} (${type}) is finished, cancelled or unknown: job acknowledged without running`, taskId, type });
      return undefined;
    }
    this.metrics.recordLostRuns(type, 0, true);
    this.logger.warn({ msg: `task ${taskId} (${type}) is dead: lost runs spent its attempts`, taskId, type, dead: true });
    await this.mirrorDead(taskId, type, LOST_RUN_ERROR);
    throw new UnrecoverableError(LOST_RUN_ERROR);
  }

  /**
   * Commits a run's outcome, then answers BullMQ the way {@link ENDINGS} says for the task's
   * new status. `owed`: it came with the job, from a worker that stopped before it could commit it.
   */
  private async settle(job: RunnableJob, token: string | undefined, finish: AttemptFinish, owed: boolean): Promise<unknown> {
    const { taskId, type } = job.data;
    let recorded: boolean;
    try {
      recorded = await this.record(() => this.attempts.finish(finish));
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        return this.handBack(job, token, pendingRecordOf(finish), 'PostgreSQL did not answer before shutdown: the outcome goes back to the queue with the job');
      }
      throw error;
    }
    if (!recorded) {
      // Another run has taken over (this one's lock expired); it decides the task's fate.
      this.logger.warn({ msg: `attempt ${finish.attempt} was superseded by a later run: its outcome (${finish.outcome}) is discarded`, ...bindingsOf(job, finish.attempt), outcome: finish.outcome });
      return null;
    }
    const { outcome, durationMs, taskStatus } = finish;
    const ending = ENDINGS[taskStatus];
    this.metrics.recordAttempt(type, outcome, durationMs, taskStatus === TaskStatus.Dead);
    const error = finish.error ?? outcome;
    const retryInMs = ending.answer === 'retry' ? Math.max(0, (finish.nextAttemptAt?.getTime() ?? Date.now()) - Date.now()) : 0;
    if (ending.level === 'warn' || this.logsInfo) {
      const late = owed ? ' (recorded by the next worker to take the job)' : '';
      const line = { msg: `attempt ${outcome}${ending.says(retryInMs)}${late}`, ...bindingsOf(job, finish.attempt), outcome, durationMs };
      if (ending.level === 'log') this.logger.log(line);
      else this.logger.warn({ ...line, error, ...(ending.answer === 'bury' ? { dead: true } : { retryInMs }) });
    }
    switch (ending.answer) {
      case 'complete':
        return finish.result;
      case 'cancel':
        throw new UnrecoverableError(`task ${taskId} was cancelled`);
      case 'bury':
        await this.mirrorDead(taskId, type, error);
        throw new UnrecoverableError(error);
      case 'retry':
        // The owed record is paid: the retry must not commit it again.
        if (owed) await job.updateData(withoutPendingRecord(job.data));
        throw new RetryableAttemptError(error, retryInMs);
    }
  }

  private recordQueueWait(job: RunnableJob, startedAt: Date): number | undefined {
    const waitMs = queueWaitMs(job, startedAt);
    if (waitMs !== undefined) this.metrics.recordQueueWait(job.data.type, waitMs);
    return waitMs;
  }

  /** Shutdown deadline: the attempt is recorded as interrupted (free) and its job goes back to the queue. */
  private async release(job: RunnableJob, token: string | undefined, release: AttemptRelease): Promise<unknown> {
    let result;
    try {
      result = await this.record(() => this.attempts.release(release));
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        return this.handBack(job, token, { kind: 'release', attempt: release.attempt, error: release.error, finishedAt: release.finishedAt.toISOString(), durationMs: release.durationMs }, 'attempt interrupted by shutdown while PostgreSQL is away: handed back with its record');
      }
      throw error;
    }
    this.metrics.recordAttempt(job.data.type, 'interrupted', release.durationMs, false);
    if (result === 'finished') {
      // Cancelled meanwhile: the attempt is recorded, and the job ends as a cancelled one does
      // rather than going back to the queue for another worker to drop.
      this.logger.log({ msg: 'attempt interrupted by shutdown; the task was cancelled meanwhile', ...bindingsOf(job, release.attempt), outcome: 'interrupted', durationMs: release.durationMs });
      throw new UnrecoverableError(`task ${job.data.taskId} was cancelled`);
    }
    if (result === 'superseded') {
      // Another run holds the job now: nothing of this one to hand back.
      this.logger.warn({ msg: `attempt ${release.attempt} was superseded by a later run while it was being interrupted`, ...bindingsOf(job, release.attempt), outcome: 'interrupted' });
      return null;
    }
    return this.handBack(job, token, undefined, 'attempt interrupted by shutdown, handed back to the queue');
  }

  /** Commits the hand-back a stopped worker owed, before this worker starts a run of its own. */
  private async releaseOwed(job: RunnableJob, token: string | undefined, pending: Extract<PendingRecord, { kind: 'release' }>): Promise<void> {
    try {
      const result = await this.record(() =>
        this.attempts.release({ taskId: job.data.taskId, attempt: pending.attempt, error: pending.error, finishedAt: new Date(pending.finishedAt), durationMs: pending.durationMs }),
      );
      this.logger.log({ msg: `attempt ${pending.attempt}: its interruption at a shutdown recorded (${result})`, taskId: job.data.taskId, type: job.data.type });
    } catch (error) {
      if (error instanceof StoreUnavailableError) return this.handBack(job, token, pending, 'PostgreSQL did not answer before shutdown: job handed back with its owed record');
      throw error;
    }
    await job.updateData(withoutPendingRecord(job.data));
  }

  /** Back to the queue without spending an attempt, carrying `pending` if PostgreSQL still lacks it. */
  private async handBack(job: RunnableJob, token: string | undefined, pending: PendingRecord | undefined, message: string): Promise<never> {
    if (pending) await job.updateData({ ...job.data, pendingRecord: pending });
    await job.moveToWait(token);
    this.logger.warn({ msg: message, taskId: job.data.taskId, type: job.data.type });
    throw new WaitingError();
  }

  private async mirrorDead(taskId: string, type: string, error: string): Promise<void> {
    await this.deadLetters
      .add([{ taskId, type, error }])
      .catch((failure: Error) => this.logger.warn(`task ${taskId} is dead but not mirrored to the dead-letter queue: ${failure.message}`));
  }

  /** A PostgreSQL write that waits out outages (see {@link writeWhenStored}). */
  private record<T>(write: (retry: boolean) => Promise<T>): Promise<T> {
    return writeWhenStored(write, {
      isOutage: isStoreUnavailable,
      stopping: this.running.stopping,
      onRetry: (error) => this.logStoreWait(`PostgreSQL is unavailable (${(error as Error).message}): attempt records wait for it, jobs keep their locks`),
    });
  }

  /**
   * One run's progress: stored in PostgreSQL (throttled, see {@link ProgressThrottle}) and shown
   * on the job in Bull Board. Best effort: a report lost to an outage is logged, not retried.
   */
  private progressOf(job: RunnableJob, run: Run): ProgressThrottle<TaskProgress> {
    const taskId = job.data.taskId;
    return new ProgressThrottle<TaskProgress>(async (progress) => {
      await Promise.all([this.progress.report({ taskId, attempt: run.number, progress, at: new Date() }), job.updateProgress(progress)]).catch((error: Error) =>
        this.logProgressLoss(`progress of task ${taskId} not stored: ${error.message}`),
      );
    });
  }

  private async execute(job: RunnableJob, run: Run, cancel: AbortSignal, progress: ProgressThrottle<TaskProgress>): Promise<AttemptResult> {
    const { type } = job.data;
    // The API validated the payload too; checked again because the handler trusts its type.
    const validation = await validatePayload(type, run.task.payload);
    if (!validation.valid) {
      const fields = validation.errors.map((e) => `${e.field}: ${e.messages.join(', ')}`).join('; ');
      return { kind: 'failed', error: `invalid payload: ${fields}`, permanent: true };
    }
    const handler = this.handlers.get(type);
    return executeWithDeadline((signal) => handler.handle(validation.payload, this.context(job, run, signal, progress)), run.task.timeoutMs, cancel);
  }

  private context(job: RunnableJob, run: Run, signal: AbortSignal, progress: ProgressThrottle<TaskProgress>): TaskContext {
    return {
      taskId: job.data.taskId,
      attempt: run.number,
      maxAttempts: lastAttemptNumber(run),
      signal,
      progress: async (value) => {
        const problem = progressValueProblem(value);
        if (problem) throw new ProgressValueError(problem);
        progress.report(value);
      },
      logger: attemptLogger(() => this.pino.logger, bindingsOf(job, run.number)),
    };
  }
}

/**
 * What a run's result means for its task. A failure is charged to the budget that began
 * after `attemptBase` (runs handed back for free moved it on): once that holds `maxAttempts`
 * charged runs, or the error is permanent, the task is dead.
 */
function finishFor(taskId: string, run: Run, outcome: Exclude<AttemptResult, { kind: 'interrupted' }>, finishedAt: Date, durationMs: number): AttemptFinish {
  const base = { taskId, attempt: run.number, finishedAt, durationMs };
  if (outcome.kind === 'completed') {
    return { ...base, outcome: AttemptOutcome.Completed, taskStatus: TaskStatus.Completed, result: outcome.result, error: null, nextAttemptAt: null };
  }
  if (outcome.kind === 'cancelled') {
    // The API has already marked the task cancelled; only the attempt is left to record.
    return { ...base, outcome: AttemptOutcome.Cancelled, taskStatus: TaskStatus.Cancelled, result: null, error: outcome.error, nextAttemptAt: null };
  }
  const charged = chargedAttempts(run.number, run);
  const dead = (outcome.kind === 'failed' && outcome.permanent) || isBudgetSpent(charged, run);
  const failure = outcome.kind === 'timed_out' ? AttemptOutcome.TimedOut : AttemptOutcome.Failed;
  const nextAttemptAt = dead ? null : new Date(finishedAt.getTime() + computeBackoffDelay(run.task.backoff, charged));
  return { ...base, outcome: failure, taskStatus: dead ? TaskStatus.Dead : TaskStatus.Retrying, result: null, error: outcome.error, nextAttemptAt };
}

/** Every line about an attempt carries these (see {@link attemptLogger} for the handler's lines). */
function bindingsOf(job: RunnableJob, attempt: number): AttemptBindings {
  return { taskId: job.data.taskId, type: job.data.type, attempt };
}

function pendingRecordOf(finish: AttemptFinish): PendingRecord {
  return {
    kind: 'finish',
    attempt: finish.attempt,
    outcome: finish.outcome,
    taskStatus: finish.taskStatus,
    result: finish.result ?? null,
    error: finish.error,
    finishedAt: finish.finishedAt.toISOString(),
    durationMs: finish.durationMs,
    nextAttemptAt: finish.nextAttemptAt?.toISOString() ?? null,
  };
}

function finishOf(taskId: string, pending: Extract<PendingRecord, { kind: 'finish' }>): AttemptFinish {
  return {
    taskId,
    attempt: pending.attempt,
    outcome: pending.outcome,
    taskStatus: pending.taskStatus,
    result: pending.result,
    error: pending.error,
    finishedAt: new Date(pending.finishedAt),
    durationMs: pending.durationMs,
    nextAttemptAt: pending.nextAttemptAt === null ? null : new Date(pending.nextAttemptAt),
  };
}

function withoutPendingRecord(data: TaskJobData): TaskJobData {
  const { pendingRecord: _paid, ...rest } = data;
  return rest;
}

/**
 * How long the job waited from when it became runnable (added, plus its delay) to this
 * start. Only a job's first start is measured: a retry's wait is mostly the backoff delay
 * chosen on purpose, and BullMQ keeps no record of when a retry became due. Manual retries
 * and DLQ requeues add a new job, so their first start counts.
 */
function queueWaitMs(job: RunnableJob, startedAt: Date): number | undefined {
  if (job.attemptsMade > 0 || job.attemptsStarted > 1) return undefined;
  return startedAt.getTime() - (job.timestamp + (job.opts.delay ?? 0));
}

type Ending = {
  /** How the job ends in BullMQ: completed, failed for good (cancelled; dead, mirrored), or retried after the recorded delay. */
  answer: 'complete' | 'cancel' | 'bury' | 'retry';
  level: 'log' | 'warn';
  /** Completes the log line `attempt <outcome>…`. */
  says: (retryInMs: number) => string;
};

/** What each status an outcome leaves the task in means for the job and the log. */
const ENDINGS: Record<AttemptFinish['taskStatus'], Ending> = {
  [TaskStatus.Completed]: { answer: 'complete', level: 'log', says: () => '' },
  [TaskStatus.Cancelled]: { answer: 'cancel', level: 'log', says: () => '' },
  [TaskStatus.Dead]: { answer: 'bury', level: 'warn', says: () => ', task dead' },
  [TaskStatus.Retrying]: { answer: 'retry', level: 'warn', says: (retryInMs) => `, retry in ${retryInMs} ms` },
};
