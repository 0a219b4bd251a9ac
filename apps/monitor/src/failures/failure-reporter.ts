import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { TaskStatus } from '@taskq/contracts';
import { TaskQueries, type TaskFailureState } from '@taskq/persistence';
import { DeadTaskAlerter } from './dead-task-alerter';
import { RecentMap } from './recent-map';

/** A queue event that may mean an attempt failed: its job id is the task id. */
export interface FailureSignal {
  taskId: string;
  type: string;
  /** Set when BullMQ moved the job to failed (no retry left, or an unrecoverable error). */
  failedReason?: string;
}

/** Task ids looked up in one query. */
const LOOKUP_BATCH = 500;
/** Signals waiting for a lookup at most; beyond it new ones are dropped (PostgreSQL far behind or down). */
const MAX_PENDING = 10_000;
/** Tasks remembered per process so an attempt or a death is logged once. */
const REMEMBERED_TASKS = 10_000;
const ATTEMPT_ENDINGS: Record<TaskFailureState['failedAttempts'][number]['outcome'], string> = { failed: 'failed', timed_out: 'timed out', lost: 'was lost' };
/** Worker and monitor clocks may disagree a little. */
const CLOCK_SKEW_MS = 1_000;

/**
 * Turns queue events into log lines and alerts, from what PostgreSQL (the record) says:
 * each failed attempt once, each dead task once. A job that failed because its task was
 * cancelled is not a dead task. Lookups are batched: a burst of events costs a few queries.
 */
@Injectable()
export class FailureReporter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Failures');
  private pending = new Map<string, FailureSignal>();
  private draining?: Promise<void>;
  private stopping = false;
  private droppedSignals = 0;
  /** Task id → highest attempt number logged. */
  private readonly loggedAttempts = new RecentMap<string, number>(REMEMBERED_TASKS);
  /** Task id → time of death (ms) logged. */
  private readonly loggedDeaths = new RecentMap<string, number>(REMEMBERED_TASKS);
  /** Attempts that ended before this process watched are not its news (a previous monitor logged them). */
  private readonly watchingSince = Date.now() - CLOCK_SKEW_MS;

  constructor(
    private readonly queries: TaskQueries,
    private readonly alerter: DeadTaskAlerter,
  ) {}

  report(signal: FailureSignal): void {
    if (this.stopping) return;
    const known = this.pending.get(signal.taskId);
    if (!known && this.pending.size >= MAX_PENDING) {
      if (this.droppedSignals++ === 0) this.logger.warn(`more than ${MAX_PENDING} queue events wait for PostgreSQL: dropping new ones`);
      return;
    }
    this.pending.set(signal.taskId, { ...signal, failedReason: signal.failedReason ?? known?.failedReason });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Runs after the queue watchers stopped: handles what they already reported. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.draining;
  }

  private async drain(): Promise<void> {
    let retryDelayMs = 500;
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()].slice(0, LOOKUP_BATCH);
      for (const signal of batch) this.pending.delete(signal.taskId);
      let states: TaskFailureState[];
      try {
        states = await this.queries.failureStates(batch.map((signal) => signal.taskId));
      } catch (error) {
        if (this.stopping) return;
        this.logger.warn(`cannot read ${batch.length} failed task(s) from PostgreSQL (${(error as Error).message}); retrying in ${retryDelayMs} ms`);
        for (const signal of batch) if (!this.pending.has(signal.taskId)) this.pending.set(signal.taskId, signal);
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
        retryDelayMs = Math.min(retryDelayMs * 2, 5_000);
        continue;
      }
      retryDelayMs = 500;
      if (this.droppedSignals > 0) {
        this.logger.warn(`${this.droppedSignals} queue event(s) were dropped while PostgreSQL lagged: their failures are not logged`);
        this.droppedSignals = 0;
      }
      const byId = new Map(states.map((state) => [state.id, state]));
      for (const signal of batch) {
        const state = byId.get(signal.taskId);
        if (state) this.handle(signal, state);
      }
    }
  }

  private handle(signal: FailureSignal, state: TaskFailureState): void {
    const task = `task ${state.id} (${state.type})`;
    const loggedUpTo = this.loggedAttempts.get(state.id);
    const news = state.failedAttempts.filter((a) => (loggedUpTo === undefined ? a.finishedAt.getTime() >= this.watchingSince : a.number > loggedUpTo));
    for (const attempt of news) {
      this.logger.warn(`${task} attempt ${attempt.number} ${ATTEMPT_ENDINGS[attempt.outcome]}: ${attempt.error ?? 'no error message'}`);
    }
    const latest = news.at(-1);
    if (latest) this.loggedAttempts.set(state.id, latest.number);

    if (state.status === TaskStatus.Dead && state.finishedAt) {
      const diedAt = state.finishedAt.getTime();
      if (this.loggedDeaths.get(state.id) === diedAt) return;
      this.loggedDeaths.set(state.id, diedAt);
      this.logger.error(`${task} is dead after ${state.attemptsMade} attempt(s): ${state.lastError ?? 'no error message'}`);
      this.alerter.notify({ id: state.id, type: state.type, error: state.lastError, attempts: state.attemptsMade, finishedAt: state.finishedAt });
      return;
    }
    if (signal.failedReason === undefined) return;
    if (state.status === TaskStatus.Cancelled) {
      this.logger.log(`${task} was cancelled: not a dead task`);
    } else if (state.status !== TaskStatus.Completed) {
      this.logger.warn(`${task}: its job failed in Redis (${signal.failedReason}) while PostgreSQL says ${state.status}`);
    }
  }
}
