import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  TASK_TYPE_NAMES,
  TaskStatus,
  getTaskType,
  isTaskType,
  validatePayload,
  type ListTasksQuery,
  type SubmitTaskDto,
  type SubmitTaskResponse,
  type TaskPage,
  type TaskType,
  type TaskView,
} from '@taskq/contracts';
import { InvalidCursorError, TaskQueries, TaskStore, type NewTask } from '@taskq/persistence';
import { TaskProducer } from '@taskq/queue';
import { ProblemException } from '../errors/problem.exception';
import { toTaskSummary, toTaskView } from './task-view.mapper';

const DEFAULT_PAGE_SIZE = 20;

type PreparedTask = NewTask & { type: TaskType };

@Injectable()
export class TasksService {
  private readonly logger = new Logger(TasksService.name);

  constructor(
    private readonly store: TaskStore,
    private readonly queries: TaskQueries,
    private readonly producer: TaskProducer,
  ) {}

  /**
   * Validates, commits the task in PostgreSQL, then queues its job. A 202 therefore means
   * the task is on record; if queueing fails the row is withdrawn and the client gets a 503.
   */
  async submit(request: SubmitTaskDto): Promise<SubmitTaskResponse> {
    const task = await this.prepare(request);
    try {
      await this.store.createTask(task);
    } catch (error) {
      this.logger.error(`could not store task ${task.id}: ${(error as Error).message}`);
      throw ProblemException.unavailable('The task store (PostgreSQL) is unavailable; nothing was stored. Retry later.');
    }
    const definition = getTaskType(task.type);
    try {
      await this.producer.enqueue({
        data: { taskId: task.id, type: task.type, payload: task.payload, backoff: definition.backoff, timeoutMs: definition.timeoutMs, attemptBase: 0 },
        maxAttempts: task.maxAttempts,
        priority: task.priority,
        delayMs: task.runAt ? task.runAt.getTime() - Date.now() : 0,
      });
    } catch (error) {
      this.logger.error(`could not queue task ${task.id}: ${(error as Error).message}`);
      await this.store.deleteUnstartedTasks([task.id]).catch((cleanup: Error) =>
        this.logger.error(`task ${task.id} stays stored but unqueued: ${cleanup.message}`),
      );
      throw ProblemException.unavailable('The queue (Redis) is unavailable; the task was not accepted. Retry later.');
    }
    return { id: task.id, type: task.type, status: task.status, createdAt: task.createdAt.toISOString() };
  }

  async get(id: string): Promise<TaskView> {
    const task = await this.queries.findTask(id);
    if (!task) throw ProblemException.notFound(`No task with id "${id}".`);
    return toTaskView(task);
  }

  async list(query: ListTasksQuery): Promise<TaskPage> {
    try {
      const page = await this.queries.listTasks({ status: query.status, type: query.type, cursor: query.cursor, limit: query.limit ?? DEFAULT_PAGE_SIZE });
      return { items: page.items.map(toTaskSummary), nextCursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw ProblemException.validation([{ field: 'cursor', messages: [error.message] }]);
      throw error;
    }
  }

  private async prepare(request: SubmitTaskDto): Promise<PreparedTask> {
    if (!isTaskType(request.type)) {
      throw ProblemException.validation(
        [{ field: 'type', messages: [`type must be one of: ${TASK_TYPE_NAMES.join(', ')}`] }],
        `Unknown task type "${request.type}". Valid types: ${TASK_TYPE_NAMES.join(', ')}.`,
      );
    }
    const validation = await validatePayload(request.type, request.payload);
    if (!validation.valid) throw ProblemException.validation(validation.errors);

    const now = new Date();
    const runAt = request.runAt ? new Date(request.runAt) : null;
    const delayed = runAt !== null && runAt.getTime() > now.getTime();
    return {
      id: randomUUID(),
      type: request.type,
      status: delayed ? TaskStatus.Delayed : TaskStatus.Queued,
      payload: validation.payload,
      priority: request.priority ?? null,
      runAt,
      maxAttempts: getTaskType(request.type).attempts,
      createdAt: now,
    };
  }
}
