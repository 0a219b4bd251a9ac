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
    const createdFrom = timeFilterOf('from', query.from);
    const createdBefore = timeFilterOf('to', query.to);
    if (createdFrom && createdBefore && createdFrom >= createdBefore) {
      throw ProblemException.validation([{ field: 'to', messages: ['to must be later than from'] }]);
    }
    try {
      const page = await this.queries.listTasks({
        tenant,
        status: query.status,
        type: query.type,
        scheduleName: query.schedule,
        createdFrom,
        createdBefore,
        search: query.q,
        cursor: query.cursor,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
      });
      return { items: page.items.map(toTaskSummary), nextCursor: page.nextCursor };
    } catch (error) {
      throw asCursorProblem(error);
    }
  }
}

/** A date and time without a zone designator (JavaScript would read it in the server's zone). */
const WITHOUT_ZONE = /T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?$/;

/**
 * An ISO 8601 time filter as a Date; a time without a zone is UTC. ISO 8601 forms JavaScript
 * cannot read (week dates, ordinal dates) or misreads (a signed year: `-9999-01-01` is 9999)
 * are refused rather than mistaken, and so are years PostgreSQL would refuse with an error.
 */
function timeFilterOf(field: 'from' | 'to', value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(WITHOUT_ZONE.test(value) ? `${value}Z` : value);
  const year = time.getUTCFullYear();
  if (!/^\d{4}/.test(value) || Number.isNaN(year) || year < 1 || year > 9999) {
    throw ProblemException.validation([{ field, messages: [`${field} must be a date and time between the years 1 and 9999, such as 2026-12-01T00:00:00Z`] }]);
  }
  return time;
}

/** A cursor we did not issue is the client's mistake: 400, not 500. */
export function asCursorProblem(error: unknown): unknown {
  return error instanceof InvalidCursorError ? ProblemException.validation([{ field: 'cursor', messages: [error.message] }]) : error;
}
