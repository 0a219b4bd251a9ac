import { Inject, Injectable, Logger } from '@nestjs/common';
import { MonitorConfig } from '@taskq/config';
import { TaskStatus } from '@taskq/contracts';
import { TaskMaintenance } from '@taskq/persistence';
import { DeadLetterMirror } from '@taskq/queue';

/** What one clean-up removed. Also the retention job's return value in Redis. */
export interface RetentionRun {
  tasks: number;
  attempts: number;
  /** DELETE statements run: one per batch of at most RETENTION_BATCH_SIZE tasks. */
  batches: number;
  /** Tasks that finished before this time were removed (ISO 8601). */
  finishedBefore: string;
  /** Stopped early by shutdown: the next run goes on. */
  interrupted: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Deletes finished tasks older than RETENTION_DAYS with their attempts, in batches of
 * RETENTION_BATCH_SIZE: each batch is one short statement, so no lock is held for long and
 * the API and workers go on meanwhile. Dead tasks stay unless RETENTION_INCLUDE_DEAD.
 */
@Injectable()
export class RetentionProcessor {
  private readonly logger = new Logger('Retention');
  private stopping = false;

  constructor(
    private readonly store: TaskMaintenance,
    private readonly deadLetters: DeadLetterMirror,
    @Inject(MonitorConfig) private readonly config: MonitorConfig,
  ) {}

  async run(now = new Date()): Promise<RetentionRun> {
    const { retentionDays, retentionBatchSize, retentionIncludeDead } = this.config;
    const finishedBefore = new Date(now.getTime() - retentionDays * DAY_MS);
    const statuses: Array<TaskStatus.Completed | TaskStatus.Cancelled | TaskStatus.Dead> = [TaskStatus.Completed, TaskStatus.Cancelled];
    if (retentionIncludeDead) statuses.push(TaskStatus.Dead);
    const run: RetentionRun = { tasks: 0, attempts: 0, batches: 0, finishedBefore: finishedBefore.toISOString(), interrupted: false };
    for (;;) {
      if (this.stopping) {
        run.interrupted = true;
        break;
      }
      const batch = await this.store.deleteExpiredTasks({ statuses, finishedBefore, limit: retentionBatchSize });
      run.batches++;
      run.tasks += batch.tasks;
      run.attempts += batch.attempts;
      if (batch.deadTaskIds.length > 0) {
        await this.deadLetters
          .remove(batch.deadTaskIds)
          .catch((error: Error) => this.logger.warn(`${batch.deadTaskIds.length} deleted dead task(s) are still in the dead-letter mirror: ${error.message}`));
      }
      if (batch.tasks < retentionBatchSize) break;
    }
    this.logger.log(
      `retention removed ${run.tasks} tasks and ${run.attempts} attempts finished before ${run.finishedBefore} ` +
        `(${statuses.join(', ')}; ${run.batches} batch(es) of at most ${retentionBatchSize})` +
        (run.interrupted ? ': interrupted by shutdown, the next run goes on' : ''),
    );
    return run;
  }

  /** Makes a running clean-up stop after its current batch. */
  stop(): void {
    this.stopping = true;
  }
}
