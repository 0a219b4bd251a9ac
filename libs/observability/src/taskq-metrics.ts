import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { TASK_TYPE_NAMES } from '@taskq/contracts';

/** The taskq process a registry belongs to: each exports only the families it feeds. */
export type TaskqApp = 'api' | 'worker' | 'monitor';

/** How an attempt ended, as recorded in task_attempts.outcome. */
export type AttemptOutcomeLabel = 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'interrupted';

/** The group-committed statements of TaskStore (its `onBatch` kinds). */
export type WriteBatchKind = 'insert' | 'start' | 'finish';

// Handlers run from milliseconds (noop) to minutes (report, slow webhooks; sleep ≤ 300 s).
const ATTEMPT_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
// From an idle queue (a few ms) to a long backlog.
const WAIT_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
// TaskStore flushes at most 500 rows per statement.
const BATCH_ROWS = [1, 2, 5, 10, 25, 50, 100, 250, 500];
// A reconciler run reads every unfinished task: milliseconds when idle, minutes over millions.
const RECONCILE_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/** How a reconciler run ended: `interrupted` by shutdown or by losing its lease. */
export type ReconcilerRunResult = 'completed' | 'failed' | 'interrupted';

/**
 * What the reconciler repaired: an unfinished task whose job was missing from Redis, or
 * finished there (failed or completed); a waiting job whose task was finished or gone; an
 * attempt row left `running` after its run ended; entries of the dead-letter mirror that
 * Redis lost (type `dead-letter`).
 */
export type ReconcilerRepair = 'missing_job' | 'finished_job' | 'stray_job' | 'lost_run' | 'dead_letters';

/**
 * Every taskq metric: names, labels and buckets live here and nowhere else. One instance
 * per app instance, with its own registry (several apps can share one process in tests, so
 * prom-client's global registry is never used). Default process metrics are included.
 */
export class TaskqMetrics {
  readonly registry = new Registry();

  /** Tasks created through the API (idempotent replays are not counted). */
  readonly tasksSubmitted = new Counter({
    name: 'taskq_tasks_submitted_total',
    help: 'Tasks created through the API (single and bulk submissions; idempotent replays are not counted).',
    labelNames: ['type'] as const,
    registers: [],
  });

  readonly tasksCompleted = new Counter({
    name: 'taskq_tasks_completed_total',
    help: 'Tasks whose attempt completed.',
    labelNames: ['type'] as const,
    registers: [],
  });

  readonly attemptsFailed = new Counter({
    name: 'taskq_task_attempts_failed_total',
    help: 'Attempts that failed or timed out (each retry counts once).',
    labelNames: ['type'] as const,
    registers: [],
  });

  readonly tasksDead = new Counter({
    name: 'taskq_tasks_dead_total',
    help: 'Tasks that became dead (attempts spent or a permanent error).',
    labelNames: ['type'] as const,
    registers: [],
  });

  readonly attemptsLost = new Counter({
    name: 'taskq_task_attempts_lost_total',
    help: 'Runs whose worker stopped without recording an outcome (killed, crashed, or its lock expired), found when the task started again or by the reconciler. They count against the attempt budget.',
    labelNames: ['type'] as const,
    registers: [],
  });

  readonly attemptDuration = new Histogram({
    name: 'taskq_task_attempt_duration_seconds',
    help: 'Time from an attempt start to its outcome, by outcome (completed, failed, timed_out, cancelled, interrupted).',
    labelNames: ['type', 'outcome'] as const,
    buckets: ATTEMPT_SECONDS,
    registers: [],
  });

  readonly queueWait = new Histogram({
    name: 'taskq_task_queue_wait_seconds',
    help: "Time from when a task's job became runnable (submitted, or its delay over) to its first attempt start. Retries are not observed.",
    labelNames: ['type'] as const,
    buckets: WAIT_SECONDS,
    registers: [],
  });

  readonly writeBatchSize = new Histogram({
    name: 'taskq_postgres_write_batch_size',
    help: 'Rows per group-committed PostgreSQL statement (insert: new tasks, start/finish: attempt records).',
    labelNames: ['kind'] as const,
    buckets: BATCH_ROWS,
    registers: [],
  });

  readonly reconcilerRequeued = new Counter({
    name: 'taskq_reconciler_requeued_total',
    help: 'Unfinished tasks whose job was missing from Redis (lost data) and that the reconciler queued again.',
    labelNames: ['type'] as const,
    registers: [],
  });

  readonly reconcilerRepairs = new Counter({
    name: 'taskq_reconciler_repairs_total',
    help: 'Disagreements between PostgreSQL and Redis the reconciler repaired, by task type and repair (missing_job, finished_job, stray_job, lost_run, dead_letters).',
    labelNames: ['type', 'repair'] as const,
    registers: [],
  });

  readonly callbackDeliveries = new Counter({
    name: 'taskq_callback_deliveries_total',
    help: "Tries to deliver a completion callback, by outcome: delivered, retry (the receiver failed or did not answer; tried again later), failed (given up after 24 h).",
    labelNames: ['outcome'] as const,
    registers: [],
  });

  readonly callbacksPending = new Gauge({
    name: 'taskq_callbacks_pending',
    help: 'Completion callbacks not yet delivered nor given up, as last counted in PostgreSQL (every monitor replica reports the same figure).',
    registers: [],
  });

  readonly reconcilerRunDuration = new Histogram({
    name: 'taskq_reconciler_run_duration_seconds',
    help: 'Duration of the reconciler runs this monitor made (one replica at a time runs), by result (completed, failed, interrupted).',
    labelNames: ['result'] as const,
    buckets: RECONCILE_SECONDS,
    registers: [],
  });

  constructor(
    readonly app: TaskqApp,
    options: { defaultMetrics?: boolean } = {},
  ) {
    const families: Record<TaskqApp, Metric[]> = {
      api: [this.tasksSubmitted, this.writeBatchSize],
      worker: [this.tasksCompleted, this.attemptsFailed, this.attemptsLost, this.tasksDead, this.attemptDuration, this.queueWait, this.writeBatchSize],
      monitor: [this.writeBatchSize, this.attemptsLost, this.tasksDead, this.reconcilerRequeued, this.reconcilerRepairs, this.reconcilerRunDuration, this.callbackDeliveries, this.callbacksPending],
    };
    for (const metric of families[app]) this.registry.registerMetric(metric);
    // Counters start at 0 for every type, so rate() sees the first increment.
    for (const type of TASK_TYPE_NAMES) {
      for (const counter of [this.tasksSubmitted, this.tasksCompleted, this.attemptsFailed, this.attemptsLost, this.tasksDead, this.reconcilerRequeued]) counter.inc({ type }, 0);
    }
    for (const outcome of ['delivered', 'retry', 'failed']) this.callbackDeliveries.inc({ outcome }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** TaskStore's `onBatch` option. */
  readonly observeWriteBatch = (kind: WriteBatchKind, size: number): void => {
    this.writeBatchSize.observe({ kind }, size);
  };

  /** Records one finished attempt; `dead`: the task is dead after it. */
  recordAttempt(type: string, outcome: AttemptOutcomeLabel, durationMs: number, dead: boolean): void {
    this.attemptDuration.observe({ type, outcome }, durationMs / 1_000);
    if (outcome === 'completed') this.tasksCompleted.inc({ type });
    if (outcome === 'failed' || outcome === 'timed_out') this.attemptsFailed.inc({ type });
    if (dead) this.tasksDead.inc({ type });
  }

  /** Earlier runs of a task found cut short (`lost`); `dead`: their number spent the task's budget. */
  recordLostRuns(type: string, count: number, dead = false): void {
    if (count > 0) this.attemptsLost.inc({ type }, count);
    if (dead) this.tasksDead.inc({ type });
  }

  /** One repair of the reconciler's (see {@link ReconcilerRepair}). */
  recordRepair(type: string, repair: ReconcilerRepair, count = 1): void {
    this.reconcilerRepairs.inc({ type, repair }, count);
  }

  /** `waitMs` below 0 (clocks of producer and worker hosts apart) counts as 0. */
  recordQueueWait(type: string, waitMs: number): void {
    this.queueWait.observe({ type }, Math.max(0, waitMs) / 1_000);
  }

  /** One reconciler run: how many tasks of each type it queued again, and how long it took. */
  recordReconcilerRun(requeuedByType: Readonly<Record<string, number>>, durationMs: number, result: ReconcilerRunResult): void {
    for (const [type, count] of Object.entries(requeuedByType)) this.reconcilerRequeued.inc({ type }, count);
    this.reconcilerRunDuration.observe({ result }, durationMs / 1_000);
  }

  /** The Prometheus text exposition of this registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
