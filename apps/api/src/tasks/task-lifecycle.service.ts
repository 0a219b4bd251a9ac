import { Injectable, Logger } from '@nestjs/common';
import { TaskEventSink, TaskStatus, type SubmitTaskResponse, type TaskType } from '@taskq/contracts';
import { TaskLifecycleStore, TaskQueries, isTaskId, type QueueableTask, type TaskSelection } from '@taskq/persistence';
import { DeadLetterMirror, QueueUnavailableError, TaskProducer } from '@taskq/queue';
import { TaskRequeue, type RequeueOutcome } from '@taskq/tasks';
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
    private readonly store: TaskLifecycleStore,
    private readonly requeues: TaskRequeue,
    private readonly queries: TaskQueries,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
    private readonly events: TaskEventSink,
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
      const tasks = await this.requeue({ ...selection, statuses: [TaskStatus.Dead] }, CHUNK);
      if (tasks.length === 0) return count;
      count += tasks.length;
    }
  }

  /** `DELETE /dlq/:id`. */
  async deleteDead(id: string): Promise<void> {
    if (!isTaskId(id)) throw ProblemException.notFound(`No dead task with id "${id}".`);
    const deleted = await this.store.deleteTasks({ ids: [id], statuses: [TaskStatus.Dead] }, 1);
    if (deleted.count === 0) throw ProblemException.notFound(`No dead task with id "${id}".`);
    await this.forgetJobs(deleted.jobs);
  }

  /** `DELETE /dlq`: every dead task matching the filter, in chunks that keep locks short; returns how many. */
  async deleteDeadMatching(selection: Omit<TaskSelection, 'statuses' | 'ids'>): Promise<number> {
    let count = 0;
    for (;;) {
      const deleted = await this.store.deleteTasks({ ...selection, statuses: [TaskStatus.Dead] }, CHUNK);
      if (deleted.count === 0) return count;
      await this.forgetJobs(deleted.jobs);
      count += deleted.count;
    }
  }

  /**
   * `POST /tasks/:id/cancel`. A waiting task leaves its queue at once; a running one is
   * aborted on whichever worker runs it. Either way PostgreSQL says `cancelled` first, so no
   * worker starts it afterwards.
   */
  async cancel(id: string, tenant: string | undefined): Promise<{ id: string; status: TaskStatus; previousStatus: TaskStatus }> {
    if (!isTaskId(id)) throw ProblemException.notFound(`No task with id "${id}".`);
    const cancelled = await this.store.cancelTask(id, tenant);
    if (cancelled === null) {
      const task = await this.queries.findTask(id, tenant);
      if (!task) throw ProblemException.notFound(`No task with id "${id}".`);
      throw conflict(`Task ${id} is already ${task.status}: only queued, delayed, retrying or active tasks can be cancelled.`);
    }
    const { previousStatus, queue } = cancelled;
    this.events.publish([
      { kind: 'status', taskId: id, type: cancelled.type, tenant: cancelled.tenant, status: TaskStatus.Cancelled, attempt: null, error: null, at: cancelled.finishedAt.toISOString() },
    ]);
    try {
      const removal = previousStatus === TaskStatus.Active || !queue ? 'locked' : await this.producer.removeJob(queue, id);
      if (removal === 'locked') await this.producer.broadcastCancel(id);
    } catch (error) {
      // PostgreSQL already refuses to start it; a running attempt finishes but changes nothing.
      this.logger.warn(`task ${id} is cancelled but its job could not be stopped in Redis: ${(error as Error).message}`);
    }
    return { id, status: TaskStatus.Cancelled, previousStatus };
  }

  private async requeueOne(id: string, from: TaskStatus[], tenant: string | undefined): Promise<SubmitTaskResponse> {
    if (!isTaskId(id)) throw ProblemException.notFound(`No task with id "${id}".`);
    const [task] = await this.requeue({ ids: [id], statuses: from, tenant }, 1);
    if (!task) {
      const current = await this.queries.findTask(id, tenant);
      if (!current || (from.length === 1 && from[0] === TaskStatus.Dead && current.status !== TaskStatus.Dead)) {
        throw ProblemException.notFound(from.length === 1 ? `No dead task with id "${id}".` : `No task with id "${id}".`);
      }
      throw conflict(`Task ${id} is ${current.status}: only dead or cancelled tasks can be retried.`);
    }
    const stored = await this.queries.findTask(id);
    return { id, type: task.type, status: TaskStatus.Queued, createdAt: (stored?.createdAt ?? new Date()).toISOString() };
  }

  /** Requeues the selected tasks (libs/tasks): their old jobs, still in Redis as failed or long gone, are replaced with fresh ones. */
  private async requeue(selection: TaskSelection, limit: number): Promise<QueueableTask[]> {
    let outcome: RequeueOutcome;
    try {
      outcome = await this.requeues.requeue(selection, limit);
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw ProblemException.unavailable('The queue (Redis) is unavailable; nothing was requeued. Retry later.', error);
      throw error;
    }
    if (outcome.kind === 'locked') throw conflict(`Task(s) ${outcome.taskIds.join(', ')} are still stopping on a worker; retry in a moment.`);
    return outcome.tasks;
  }

  /** Deleted tasks leave no job behind: neither their failed job nor their dead-letter entry. */
  private async forgetJobs(tasks: Array<{ id: string; type: TaskType }>): Promise<void> {
    try {
      await Promise.all(tasks.map((task) => this.producer.removeJob(task.type, task.id)));
      await this.deadLetters.remove(tasks.map((task) => task.id));
    } catch (error) {
      this.logger.warn(`deleted tasks may leave jobs in Redis until they expire: ${(error as Error).message}`);
    }
  }
}
