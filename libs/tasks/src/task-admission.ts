import { Logger } from '@nestjs/common';
import type { TaskEventSink } from '@taskq/contracts';
import type { TaskAdmissions } from '@taskq/persistence';
import type { TaskProducer } from '@taskq/queue';
import { waitingEventsOf } from './task-events';
import { jobSpecFor } from './task-job-spec';
import type { PreparedTask } from './task-preparation';

const createdAt = (task: PreparedTask): Date => task.createdAt;

/**
 * Admission: store, then queue, and withdraw on failure. A task is committed to PostgreSQL
 * before its job is added, so a job never runs ahead of its row; if Redis refuses the job,
 * the row is deleted again, so nobody holds the id of a task that will never run.
 *
 * Store errors reject as they are (nothing was queued). Queue errors reject with the
 * producer's QueueUnavailableError, after the tasks were withdrawn.
 *
 * New tasks are announced (`queued`, `delayed`) once committed and before their jobs are
 * added, on the same Redis connection: a worker's `active` can never arrive first.
 */
export class TaskAdmission {
  private readonly logger = new Logger('TaskAdmission');

  constructor(
    private readonly admissions: TaskAdmissions,
    private readonly producer: TaskProducer,
    private readonly events?: TaskEventSink,
  ) {}

  /**
   * One task. Its insert joins the concurrent ones (group commit) and its job their
   * `addBulk`. Resolves false when its idempotency key is already taken: nothing was written.
   */
  async admitOne(task: PreparedTask): Promise<boolean> {
    if (!(await this.admissions.createTask(task))) return false;
    this.events?.publish(waitingEventsOf([task], createdAt));
    try {
      await this.producer.enqueue(jobSpecFor(task));
    } catch (error) {
      await this.withdraw([task]);
      throw error;
    }
    return true;
  }

  /** Many tasks: one insert, then pipelined `addBulk`s. For each, whether it was new (its idempotency key was free). */
  async admit(tasks: PreparedTask[]): Promise<boolean[]> {
    const inserted = await this.admissions.insertTasks(tasks);
    const created = tasks.filter((_, index) => inserted[index]);
    if (created.length > 0) this.events?.publish(waitingEventsOf(created, createdAt));
    try {
      const now = Date.now();
      await this.producer.enqueueMany(created.map((task) => jobSpecFor(task, now)));
    } catch (error) {
      await this.withdraw(created);
      throw error;
    }
    return inserted;
  }

  /** Takes back tasks whose jobs could not be queued. */
  private async withdraw(tasks: PreparedTask[]): Promise<void> {
    const ids = tasks.map((task) => task.id);
    // Not withdrawn, they would run later all the same: the reconciler queues every unfinished task.
    await this.admissions.deleteUnstartedTasks(ids).catch((cleanup: Error) =>
      this.logger.error(`tasks ${ids.join(', ')} were refused (Redis unavailable) but stay stored, and will run: ${cleanup.message}`),
    );
  }
}
