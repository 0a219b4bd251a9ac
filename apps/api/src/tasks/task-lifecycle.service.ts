import { Injectable, Logger } from '@nestjs/common';
import { TaskStatus, isTaskType, type SubmitTaskResponse } from '@taskq/contracts';
import { TaskQueries, TaskStore, isTaskId, type RequeuedTask, type TaskSelection } from '@taskq/persistence';
import { DeadLetterMirror, TaskProducer, jobSpecFor } from '@taskq/queue';
import { ProblemException, problemType } from '../errors/problem.exception';

/** Rows handled per statement when a request touches many tasks (DLQ requeue and clear). */
const CHUNK = 500;

const conflict = (detail: string): ProblemException =>
  new ProblemException({ type: problemType('invalid-state'), title: 'Conflict', status: 409, detail });

/**
 * Manual retry, cancel and the dead-letter queue's requeue and delete. `tenant` confines retry
 * and cancel to one tenant's tasks (undefined: every tenant's): another tenant's task is a 404.
 * The dead-letter routes need `admin`, which acts on every tenant's tasks.
 */
@Injectable()
export class TaskLifecycleService {
  private readonly logger = new Logger(TaskLifecycleService.name);

  constructor(
    private readonly store: TaskStore,
    private readonly queries: TaskQueries,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
  ) {}

  /** `POST /tasks/:id/retry`: a dead or cancelled task runs again with a fresh attempt budget. */
  async retry(id: string, tenant: string | undefined): Promise<SubmitTaskResponse> {
    return this.requeueOne(id, [TaskStatus.Dead, TaskStatus.Cancelled], tenant);
  }

  /** `POST /dlq/:id/requeue`. */
  async requeueDead(id: string): Promise<SubmitTaskResponse> {
    return this.requeueOne(id, [TaskStatus.Dead], undefined);
  }

  /** `POST /dlq/requeue`: every dead task matching the filter; returns how many. */
  async requeueDeadMatching(selection: Omit<TaskSelection, 'statuses' | 'ids'>): Promise<number> {
    let count = 0;
    for (;;) {
      const tasks = await this.store.requeueTasks({ ...selection, statuses: [TaskStatus.Dead] }, CHUNK);
      if (tasks.length === 0) return count;
      await this.queueAgain(tasks);
      count += tasks.length;
    }
  }

  /** `DELETE /dlq/:id`. */
  async deleteDead(id: string): Promise<void> {
    if (!isTaskId(id)) throw ProblemException.notFound(`No dead task with id "${id}".`);
    const deleted = await this.store.deleteTasks({ ids: [id], statuses: [TaskStatus.Dead] }, 1);
    if (deleted.length === 0) throw ProblemException.notFound(`No dead task with id "${id}".`);
    await this.forgetJobs(deleted);
  }

  /** `DELETE /dlq`: every dead task matching the filter, in chunks that keep locks short; returns how many. */
  async deleteDeadMatching(selection: Omit<TaskSelection, 'statuses' | 'ids'>): Promise<number> {
    let count = 0;
    for (;;) {
      const deleted = await this.store.deleteTasks({ ...selection, statuses: [TaskStatus.Dead] }, CHUNK);
      if (deleted.length === 0) return count;
      await this.forgetJobs(deleted);
      count += deleted.length;
    }
  }

  /**
   * `POST /tasks/:id/cancel`. A waiting task leaves its queue at once; a running one is
   * aborted on whichever worker runs it. Either way PostgreSQL says `cancelled` first, so no
   * worker starts it afterwards.
   */
  async cancel(id: string, tenant: string | undefined): Promise<{ id: string; status: TaskStatus; previousStatus: TaskStatus }> {
    if (!isTaskId(id)) throw ProblemException.notFound(`No task with id "${id}".`);
    const previous = await this.store.cancelTask(id, tenant);
    if (previous === null) {
      const task = await this.queries.findTask(id, tenant);
      if (!task) throw ProblemException.notFound(`No task with id "${id}".`);
      throw conflict(`Task ${id} is already ${task.status}: only queued, delayed, retrying or active tasks can be cancelled.`);
    }
    const task = await this.queries.findTask(id);
    try {
      const removal = previous === TaskStatus.Active || !task || !isTaskType(task.type) ? 'locked' : await this.producer.removeJob(task.type, id);
      if (removal === 'locked') await this.producer.broadcastCancel(id);
    } catch (error) {
      // PostgreSQL already refuses to start it; a running attempt finishes but changes nothing.
      this.logger.warn(`task ${id} is cancelled but its job could not be stopped in Redis: ${(error as Error).message}`);
    }
    return { id, status: TaskStatus.Cancelled, previousStatus: previous };
  }

  private async requeueOne(id: string, from: TaskStatus[], tenant: string | undefined): Promise<SubmitTaskResponse> {
    if (!isTaskId(id)) throw ProblemException.notFound(`No task with id "${id}".`);
    const [task] = await this.store.requeueTasks({ ids: [id], statuses: from, tenant }, 1);
    if (!task) {
      const current = await this.queries.findTask(id, tenant);
      if (!current || (from.length === 1 && from[0] === TaskStatus.Dead && current.status !== TaskStatus.Dead)) {
        throw ProblemException.notFound(from.length === 1 ? `No dead task with id "${id}".` : `No task with id "${id}".`);
      }
      throw conflict(`Task ${id} is ${current.status}: only dead or cancelled tasks can be retried.`);
    }
    await this.queueAgain([task]);
    const stored = await this.queries.findTask(id);
    return { id, type: task.type, status: TaskStatus.Queued, createdAt: (stored?.createdAt ?? new Date()).toISOString() };
  }

  /** Replaces the old jobs (still in Redis as failed, or long gone) with fresh ones. */
  private async queueAgain(tasks: RequeuedTask[]): Promise<void> {
    try {
      const locked = await this.removeJobs(tasks);
      if (locked.length > 0) {
        await this.store.restoreStatuses(tasks);
        throw conflict(`Task(s) ${locked.join(', ')} are still stopping on a worker; retry in a moment.`);
      }
      const now = Date.now();
      await this.producer.enqueueMany(tasks.map((task) => jobSpecFor({ ...task, runAt: null }, now)));
      await this.deadLetters.remove(tasks.map((task) => task.id)).catch((error: Error) => this.logger.warn(`dead-letter mirror: ${error.message}`));
    } catch (error) {
      if (error instanceof ProblemException) throw error;
      await this.store.restoreStatuses(tasks).catch((restore: Error) => this.logger.error(`could not restore statuses: ${restore.message}`));
      throw ProblemException.unavailable('The queue (Redis) is unavailable; nothing was requeued. Retry later.', error);
    }
  }

  private async removeJobs(tasks: RequeuedTask[]): Promise<string[]> {
    const results = await Promise.all(
      tasks.map(async (task) => (isTaskType(task.type) ? ((await this.producer.removeJob(task.type, task.id)) === 'locked' ? task.id : null) : null)),
    );
    return results.filter((id): id is string => id !== null);
  }

  /** Deleted tasks leave no job behind: neither their failed job nor their dead-letter entry. */
  private async forgetJobs(tasks: Array<{ id: string; type: string }>): Promise<void> {
    try {
      await Promise.all(tasks.map((task) => (isTaskType(task.type) ? this.producer.removeJob(task.type, task.id) : undefined)));
      await this.deadLetters.remove(tasks.map((task) => task.id));
    } catch (error) {
      this.logger.warn(`deleted tasks may leave jobs in Redis until they expire: ${(error as Error).message}`);
    }
  }
}
