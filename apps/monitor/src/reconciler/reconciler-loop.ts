import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { TaskqMetrics } from '@taskq/observability';
import { ReconcilerLease } from './reconciler-lease';
import { Reconciler, totalRepairs, totalRequeued, type ReconcileRun } from './reconciler';

/** The lease outlives a stalled holder by at most this; it is renewed every third of it while a run goes on. */
const LEASE_MS = 30_000;

/** What a call of {@link ReconcilerLoop.runNow} did. */
export type ReconcileOutcome = { ran: true; run: ReconcileRun } | { ran: false; reason: string };

/**
 * Runs the reconciler once right after start-up and then every RECONCILE_INTERVAL_MS
 * (counted from the end of the previous run), on one monitor replica at a time: a run needs
 * the lease in Redis. After a run its holder keeps the lease for half an interval, so the
 * replicas' timers do not each scan PostgreSQL once per interval. A timer rather than a
 * BullMQ job scheduler, because what it heals is Redis losing its data, schedulers included.
 */
@Injectable()
export class ReconcilerLoop implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReconcileOutcome>;
  private abort?: AbortController;
  private stopping = false;

  constructor(
    private readonly reconciler: Reconciler,
    private readonly lease: ReconcilerLease,
    private readonly metrics: TaskqMetrics,
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { reconcileIntervalMs, reconcileGraceMs } = this.config;
    if (reconcileIntervalMs === 0) {
      this.logger.warn('reconciler is off (RECONCILE_INTERVAL_MS=0): tasks whose jobs Redis loses or fails stay unfinished');
      return;
    }
    this.logger.log(`reconciler repairs disagreements between PostgreSQL and Redis: at start and every ${reconcileIntervalMs} ms (grace ${reconcileGraceMs} ms)`);
    this.schedule(0);
  }

  /**
   * One run, unless another replica holds the lease (or ran less than half an interval ago).
   * A call while a run goes on waits for that run. Failures are logged, never thrown.
   */
  runNow(): Promise<ReconcileOutcome> {
    this.running ??= this.leasedRun().finally(() => (this.running = undefined));
    return this.running;
  }

  /** A running pass stops after its current page; its lease expires by itself. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => void this.runNow().finally(() => this.schedule(this.config.reconcileIntervalMs)), delayMs);
  }

  private async leasedRun(): Promise<ReconcileOutcome> {
    const retryIn = `next try in ${this.config.reconcileIntervalMs} ms`;
    try {
      if (!(await this.lease.acquire(LEASE_MS))) return { ran: false, reason: 'another replica reconciles, or did a moment ago' };
    } catch (error) {
      this.logger.warn(`could not take the reconciler lease in Redis (${retryIn}): ${(error as Error).message}`);
      return { ran: false, reason: (error as Error).message };
    }
    const abort = new AbortController();
    this.abort = abort;
    if (this.stopping) abort.abort();
    const renewal = setInterval(() => {
      this.lease.extend(LEASE_MS).then(
        (ours) => ours || abort.abort(),
        () => abort.abort(),
      );
    }, LEASE_MS / 3);
    const startedAt = Date.now();
    try {
      const run = await this.reconciler.reconcile(abort.signal);
      this.metrics.recordReconcilerRun(run.requeuedByType, run.durationMs, run.interrupted ? 'interrupted' : 'completed');
      this.report(run);
      return { ran: true, run };
    } catch (error) {
      this.metrics.recordReconcilerRun({}, Date.now() - startedAt, 'failed');
      this.logger.warn(`reconciler run failed (${retryIn}): ${(error as Error).message}`);
      return { ran: false, reason: (error as Error).message };
    } finally {
      clearInterval(renewal);
      this.abort = undefined;
      // Kept (if still ours) for half an interval: the other replicas skip their turn meanwhile.
      await this.lease.extend(Math.max(1, Math.floor(this.config.reconcileIntervalMs / 2))).catch(() => false);
    }
  }

  private report(run: ReconcileRun): void {
    const repairs = totalRepairs(run);
    const stopped = run.interrupted ? '; stopped early (shutdown or lease lost), the next run goes on' : '';
    if (repairs > 0) {
      const list = (counts: Record<string, number>): string =>
        Object.entries(counts)
          .filter(([, count]) => count > 0)
          .map(([name, count]) => `${name} ${count}`)
          .join(', ');
      const requeued = totalRequeued(run) > 0 ? `; re-queued ${totalRequeued(run)} tasks (by status: ${list(run.requeued)})` : '';
      const dead = run.dead > 0 ? `; ${run.dead} task(s) dead` : '';
      this.logger.log(`reconciler repaired ${repairs} disagreement(s) between PostgreSQL and Redis (${list(run.repairs)})${requeued}${dead} in ${run.durationMs} ms${stopped}`);
    } else {
      this.logger.debug(`reconciler checked ${run.checked} unfinished tasks: PostgreSQL and Redis agree (${run.durationMs} ms)${stopped}`);
    }
    const unregistered = Object.entries(run.unregistered);
    if (unregistered.length > 0) {
      const list = unregistered.map(([type, count]) => `${type} ${count}`).join(', ');
      this.logger.warn(`unfinished tasks of types this build does not register cannot be queued: ${list}`);
    }
  }
}
