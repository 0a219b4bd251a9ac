import { Inject, Injectable, Logger } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, TaskStatus, isTerminalStatus } from '@taskq/contracts';
import { TaskqMetrics, type ReconcilerRepair } from '@taskq/observability';
import {
  LOST_RUN_ERROR,
  TaskMaintenance,
  TaskQueries,
  isTaskId,
  type QueueableTask,
  type UnfinishedStatus,
  type UnfinishedTaskKey,
  type UnfinishedTaskRef,
} from '@taskq/persistence';
import { DeadLetterMirror, TaskProducer } from '@taskq/queue';
import { TaskRequeue } from '@taskq/tasks';
import { FailureReporter } from '../failures/failure-reporter';

/** What one run found and did. */
export interface ReconcileRun {
  /** Unfinished tasks (older than the grace period) whose job was looked up in Redis. */
  checked: number;
  /** Tasks queued again (their job was missing from Redis, or finished there), by the status PostgreSQL had for them. */
  requeued: Record<UnfinishedStatus, number>;
  requeuedByType: Record<string, number>;
  /** Every repair, by kind (see {@link ReconcilerRepair}). */
  repairs: Record<ReconcilerRepair, number>;
  /** Tasks declared dead: their job had failed in Redis and their lost runs spent the budget. */
  dead: number;
  /** Unfinished tasks of a type this build does not know: no queue to put them in. */
  unregistered: Record<string, number>;
  /** Stopped early (shutdown, or the lease was lost): the next run goes over everything again. */
  interrupted: boolean;
  durationMs: number;
}

export const totalRequeued = (run: ReconcileRun): number => Object.values(run.requeued).reduce((sum, n) => sum + n, 0);
export const totalRepairs = (run: ReconcileRun): number => Object.values(run.repairs).reduce((sum, n) => sum + n, 0);

const UNFINISHED_STATUSES: UnfinishedStatus[] = [TaskStatus.Queued, TaskStatus.Delayed, TaskStatus.Retrying, TaskStatus.Active];

/** Recorded on the running attempt of an active task whose job vanished. */
export const LOST_ATTEMPT_ERROR = 'its job was lost from Redis while it ran (Redis lost its data); the reconciler queued the task again without spending an attempt';

/** Recorded on the running attempt of an active task whose job had finished in Redis. */
export const FINISHED_JOB_ERROR = `its job had finished in Redis while PostgreSQL said it ran: ${LOST_RUN_ERROR}`;

/** Repairs a run itemises in the log, one line each; the rest are counted in its summary line and in metrics. */
const ITEMISED_REPAIRS = 100;

/**
 * Makes Redis agree with PostgreSQL, the record, in both directions:
 * - an unfinished task whose job is missing (Redis restarted without persistence, a flushed
 *   key, a lost write) is queued again with the producer path the API uses;
 * - an unfinished task whose job is finished in Redis (failed or completed) gets a new job;
 *   if it was active, that run is recorded as lost and charged, and with its budget spent the
 *   task is dead instead;
 * - a job waiting for a task that is finished, or that PostgreSQL does not have, is removed;
 * - an attempt row left `running` after its run ended is recorded as lost;
 * - the dead-letter mirror, when Redis lost it, is rebuilt.
 *
 * PostgreSQL is walked in keyset pages per status; Redis is asked about a page at once (one
 * pipeline). Never touched: a task changed within RECONCILE_GRACE_MS (a submission between
 * its INSERT and its job, a worker between two writes), an active task before its attempt's
 * deadline (timeout_ms) plus that grace, and a job added within the grace. Before a repair
 * the task is read again: changed since, a worker or the API got there first, so it is skipped.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger('Reconciler');

  constructor(
    private readonly queries: TaskQueries,
    private readonly store: TaskMaintenance,
    private readonly requeues: TaskRequeue,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
    private readonly failures: FailureReporter,
    private readonly metrics: TaskqMetrics,
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
  ) {}

  /** One pass over every unfinished task and every waiting job; `signal` stops it between two pages. */
  async reconcile(signal?: AbortSignal): Promise<ReconcileRun> {
    const startedAt = Date.now();
    const settledBefore = new Date(startedAt - this.config.reconcileGraceMs);
    const run: ReconcileRun = {
      checked: 0,
      requeued: { queued: 0, delayed: 0, retrying: 0, active: 0 },
      requeuedByType: {},
      repairs: { missing_job: 0, finished_job: 0, stray_job: 0, lost_run: 0, dead_letters: 0 },
      dead: 0,
      unregistered: {},
      interrupted: false,
      durationMs: 0,
    };
    const repaired = this.repairLog(run);
    await this.recordStrayRuns(settledBefore, repaired);
    await this.resyncDeadLetters(run);
    if (await this.checkUnfinishedTasks(settledBefore, run, repaired, signal)) {
      await this.removeStaleJobs(settledBefore, run, repaired, signal);
    }
    run.durationMs = Date.now() - startedAt;
    return run;
  }

  /** PostgreSQL → Redis. False when stopped early. */
  private async checkUnfinishedTasks(settledBefore: Date, run: ReconcileRun, repaired: RepairLog, signal?: AbortSignal): Promise<boolean> {
    const limit = this.config.reconcileBatchSize;
    for (const status of UNFINISHED_STATUSES) {
      let after: UnfinishedTaskKey | undefined;
      for (;;) {
        if (signal?.aborted) {
          run.interrupted = true;
          return false;
        }
        const page = await this.queries.unfinishedTasksPage({ status, settledBefore, after, limit });
        for (const type of page.unregisteredTypes) run.unregistered[type] = (run.unregistered[type] ?? 0) + 1;
        const queueable = page.tasks;
        run.checked += queueable.length;
        const presence = await this.producer.jobPresence(queueable);
        const missing = queueable.filter((_task, index) => presence[index] === 'missing');
        const finished = queueable.filter((_task, index) => presence[index] === 'finished');
        if (missing.length > 0) await this.requeueMissing(missing, run, repaired);
        if (finished.length > 0) await this.replaceFinished(finished, run, repaired);
        if (!page.next) break;
        after = page.next;
      }
    }
    return true;
  }

  private async requeueMissing(missing: UnfinishedTaskRef[], run: ReconcileRun, repaired: RepairLog): Promise<void> {
    const unchanged = await this.unchangedWaiting(missing);
    // Written before the jobs are added: if adding fails, these tasks are `queued` without a
    // job, and the next run (after the grace period) adds them like any other.
    const released = await this.store.releaseLostAttempts(
      missing.filter((task) => task.status === TaskStatus.Active).map((task) => ({ taskId: task.id, attemptsMade: task.attemptsMade, updatedAt: task.updatedAt })),
      { error: LOST_ATTEMPT_ERROR, at: new Date() },
    );
    const requeued = [...unchanged.map((task) => ({ task, was: task.status })), ...released.map((task) => ({ task, was: TaskStatus.Active as const }))];
    if (requeued.length === 0) return;
    await this.requeues.queueJobs(requeued.map(({ task }) => task), { replace: false });
    for (const { task, was } of requeued) {
      this.countRequeued(run, task, was);
      repaired(task, 'missing_job', `${was}, but its job was missing from Redis: queued again${was === TaskStatus.Active ? ' (its running attempt interrupted, free)' : ''}`);
    }
  }

  private async replaceFinished(finished: UnfinishedTaskRef[], run: ReconcileRun, repaired: RepairLog): Promise<void> {
    const unchanged = await this.unchangedWaiting(finished);
    const abandoned = await this.store.abandonRuns(
      finished.filter((task) => task.status === TaskStatus.Active).map((task) => ({ taskId: task.id, attemptsMade: task.attemptsMade, updatedAt: task.updatedAt })),
      { error: FINISHED_JOB_ERROR, at: new Date() },
    );
    const requeued = [
      ...unchanged.map((task) => ({ task, was: task.status })),
      ...abandoned.flatMap((abandonedRun) => (abandonedRun.dead ? [] : [{ task: abandonedRun.task, was: TaskStatus.Active as const }])),
    ];
    await this.requeues.queueJobs(requeued.map(({ task }) => task), { replace: true });
    for (const { task, was } of requeued) {
      this.countRequeued(run, task, was);
      if (was === TaskStatus.Active) this.metrics.recordLostRuns(task.type, 1);
      repaired(task, 'finished_job', `${was}, but its job had finished in Redis: given a new job${was === TaskStatus.Active ? ' (its running attempt recorded as lost)' : ''}`);
    }
    const dead = abandoned.flatMap((abandonedRun) => (abandonedRun.dead ? [{ id: abandonedRun.id, type: abandonedRun.type }] : []));
    for (const task of dead) {
      run.dead++;
      this.metrics.recordLostRuns(task.type, 1, true);
      repaired(task, 'finished_job', 'active, but its job had finished in Redis: its run recorded as lost, and with its attempts spent the task is dead');
      // The failure watcher logs and alerts it like any other death.
      this.failures.report({ taskId: task.id, type: task.type });
    }
    if (dead.length > 0) {
      await this.deadLetters
        .add(dead.map((task) => ({ taskId: task.id, type: task.type, error: FINISHED_JOB_ERROR })))
        .catch((error: Error) => this.logger.warn(`${dead.length} dead task(s) not mirrored to the dead-letter queue: ${error.message}`));
    }
  }

  /** Redis → PostgreSQL: jobs waiting for tasks that are finished or gone. */
  private async removeStaleJobs(settledBefore: Date, run: ReconcileRun, repaired: RepairLog, signal?: AbortSignal): Promise<void> {
    for (const type of TASK_TYPE_NAMES) {
      for await (const page of this.producer.waitingJobIds(type, this.config.reconcileBatchSize)) {
        if (signal?.aborted) {
          run.interrupted = true;
          return;
        }
        // Task jobs are named by their task's id; anything else is not ours to judge.
        const ids = page.filter(isTaskId);
        const states = new Map((await this.queries.taskStates(ids)).map((state) => [state.id, state]));
        const stale = ids.filter((id) => {
          const state = states.get(id);
          return !state || (isTerminalStatus(state.status) && state.updatedAt < settledBefore);
        });
        if (stale.length === 0) continue;
        for (const id of await this.producer.removeStaleJobs(type, stale, settledBefore.getTime())) {
          const status = states.get(id)?.status;
          repaired({ id, type }, 'stray_job', status ? `its job still waited in Redis although the task is ${status}: job removed` : 'its job waited in Redis for a task PostgreSQL does not have: job removed');
        }
      }
    }
  }

  /** The dead-letter mirror, rebuilt from PostgreSQL when Redis lost it (Bull Board shows it). */
  private async resyncDeadLetters(run: ReconcileRun): Promise<void> {
    const synced = await this.deadLetters.syncIfLost(() => this.queries.deadLetterEntries());
    if (!synced || synced.added + synced.removed === 0) return;
    run.repairs.dead_letters += synced.added + synced.removed;
    this.metrics.recordRepair('dead-letter', 'dead_letters', synced.added + synced.removed);
    this.logger.log(`dead-letter mirror rebuilt from PostgreSQL: ${synced.added} added, ${synced.removed} removed`);
  }

  /** Attempt rows left `running` after their run ended. */
  private async recordStrayRuns(settledBefore: Date, repaired: RepairLog): Promise<void> {
    const limit = this.config.reconcileBatchSize;
    for (;;) {
      const stray = await this.store.recordStrayRuns({ settledBefore, limit }, { error: LOST_RUN_ERROR, at: new Date() });
      for (const attempt of stray) {
        this.metrics.recordLostRuns(attempt.type, 1);
        repaired({ id: attempt.taskId, type: attempt.type }, 'lost_run', `attempt ${attempt.number} was still running after its run had ended: recorded as lost`);
      }
      if (stray.length < limit) return;
    }
  }

  /** Those of the waiting (not active) tasks that have not changed since the page read them. */
  private async unchangedWaiting(tasks: UnfinishedTaskRef[]): Promise<QueueableTask[]> {
    const seen = new Map(tasks.map((task) => [task.id, task]));
    const waiting = tasks.filter((task) => task.status !== TaskStatus.Active).map((task) => task.id);
    return (await this.queries.unfinishedTasks(waiting)).filter((task) => {
      const before = seen.get(task.id);
      return before?.status === task.status && before.updatedAt.getTime() === task.updatedAt.getTime();
    });
  }

  private countRequeued(run: ReconcileRun, task: QueueableTask, was: UnfinishedStatus): void {
    run.requeued[was]++;
    run.requeuedByType[task.type] = (run.requeuedByType[task.type] ?? 0) + 1;
  }

  /** Counts every repair of a run (metrics included) and logs the first {@link ITEMISED_REPAIRS}, a line each. */
  private repairLog(run: ReconcileRun): RepairLog {
    return (task, repair, what) => {
      run.repairs[repair]++;
      this.metrics.recordRepair(task.type, repair);
      const count = totalRepairs(run);
      if (count <= ITEMISED_REPAIRS) this.logger.log(`repaired task ${task.id} (${task.type}): ${what}`);
      if (count === ITEMISED_REPAIRS + 1) this.logger.log(`more repairs in this run: counted in its summary, not itemised`);
    };
  }
}

type RepairLog = (task: { id: string; type: string }, repair: ReconcilerRepair, what: string) => void;
