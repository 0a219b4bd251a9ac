import { Injectable } from '@nestjs/common';
import type { CallbackDeliveryView, ListTasksQuery, TaskPage, TaskView } from '@taskq/contracts';
import { CallbackStore, InvalidCursorError, TaskQueries, toTaskSummary, toTaskView } from '@taskq/persistence';
import { ProblemException } from '../errors/problem.exception';

export const DEFAULT_PAGE_SIZE = 20;

/**
 * Reading tasks: detail and lists. `tenant` confines them to one tenant's tasks (undefined:
 * every tenant's); another tenant's task is a 404, exactly like a task that does not exist.
 */
@Injectable()
export class TasksService {
  constructor(
    private readonly queries: TaskQueries,
    private readonly callbacks: CallbackStore,
  ) {}

  async get(id: string, tenant: string | undefined): Promise<TaskView> {
    const task = await this.queries.findTask(id, tenant);
    if (!task) throw ProblemException.notFound(`No task with id "${id}".`);
    return toTaskView(task, task.callbackUrl ? await this.callbacks.latestFor(id) : null);
  }

  /** `GET /tasks/:id/callbacks`: every try of every delivery the task owed. */
  async callbackDeliveries(id: string, tenant: string | undefined): Promise<{ items: CallbackDeliveryView[] }> {
    const task = await this.queries.findTask(id, tenant);
    if (!task) throw ProblemException.notFound(`No task with id "${id}".`);
    return { items: await this.callbacks.deliveriesOf(id) };
  }

  async list(query: ListTasksQuery, tenant: string | undefined): Promise<TaskPage> {
    try {
      const page = await this.queries.listTasks({
        tenant,
        status: query.status,
        type: query.type,
        scheduleName: query.schedule,
        cursor: query.cursor,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
      });
      return { items: page.items.map(toTaskSummary), nextCursor: page.nextCursor };
    } catch (error) {
      throw asCursorProblem(error);
    }
  }
}

/** A cursor we did not issue is the client's mistake: 400, not 500. */
export function asCursorProblem(error: unknown): unknown {
  return error instanceof InvalidCursorError ? ProblemException.validation([{ field: 'cursor', messages: [error.message] }]) : error;
}
