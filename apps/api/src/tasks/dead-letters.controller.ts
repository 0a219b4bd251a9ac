import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { DeadLetterFilter, ListDeadLettersQuery, TaskStatus, type CountResponse, type SubmitTaskResponse, type TaskPage, type TaskView } from '@taskq/contracts';
import { TaskQueries, type TaskSelection } from '@taskq/persistence';
import { ProblemException } from '../errors/problem.exception';
import { TaskLifecycleService } from './task-lifecycle.service';
import { toTaskSummary, toTaskView } from './task-view.mapper';
import { DEFAULT_PAGE_SIZE, asCursorProblem } from './tasks.service';

const selectionOf = (filter: DeadLetterFilter): Omit<TaskSelection, 'statuses' | 'ids'> => ({
  type: filter.type,
  finishedFrom: filter.from ? new Date(filter.from) : undefined,
  finishedTo: filter.to ? new Date(filter.to) : undefined,
});

/** The dead-letter queue: tasks whose attempts are spent or that failed permanently. */
@Controller('dlq')
export class DeadLettersController {
  constructor(
    private readonly queries: TaskQueries,
    private readonly lifecycle: TaskLifecycleService,
  ) {}

  /** Most recent death first; filters `type`, `from`, `to` (time of death); cursor pages. */
  @Get()
  async list(@Query() query: ListDeadLettersQuery): Promise<TaskPage> {
    try {
      const { type, finishedFrom: from, finishedTo: to } = selectionOf(query);
      const page = await this.queries.listDead({ type, from, to, cursor: query.cursor, limit: query.limit ?? DEFAULT_PAGE_SIZE });
      return { items: page.items.map(toTaskSummary), nextCursor: page.nextCursor };
    } catch (error) {
      throw asCursorProblem(error);
    }
  }

  /** A dead task with its last error and full attempt history. */
  @Get(':id')
  async get(@Param('id') id: string): Promise<TaskView> {
    const task = await this.queries.findTask(id);
    if (!task || task.status !== TaskStatus.Dead) throw ProblemException.notFound(`No dead task with id "${id}".`);
    return toTaskView(task);
  }

  /** Requeues every dead task matching the filter (all when none is given). */
  @Post('requeue')
  @HttpCode(200)
  async requeueMatching(@Query() filter: DeadLetterFilter): Promise<CountResponse> {
    return { count: await this.lifecycle.requeueDeadMatching(selectionOf(filter)) };
  }

  @Post(':id/requeue')
  @HttpCode(202)
  requeue(@Param('id') id: string): Promise<SubmitTaskResponse> {
    return this.lifecycle.requeueDead(id);
  }

  /** Clears the dead-letter queue, or the part matching the filter. */
  @Delete()
  async clear(@Query() filter: DeadLetterFilter): Promise<CountResponse> {
    return { count: await this.lifecycle.deleteDeadMatching(selectionOf(filter)) };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id') id: string): Promise<void> {
    await this.lifecycle.deleteDead(id);
  }
}
