import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiKeyScope, DeadLetterFilter, ListDeadLettersQuery, TaskStatus, type CountResponse, type SubmitTaskResponse, type TaskPage, type TaskView } from '@taskq/contracts';
import { TaskQueries, type TaskSelection } from '@taskq/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { tenantScope, type Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ProblemException } from '../errors/problem.exception';
import { TaskLifecycleService } from './task-lifecycle.service';
import { toTaskSummary, toTaskView } from './task-view.mapper';
import { DEFAULT_PAGE_SIZE, asCursorProblem } from './tasks.service';

const selectionOf = (filter: DeadLetterFilter): Omit<TaskSelection, 'statuses' | 'ids'> => ({
  type: filter.type,
  finishedFrom: filter.from ? new Date(filter.from) : undefined,
  finishedTo: filter.to ? new Date(filter.to) : undefined,
});

/**
 * The dead-letter queue: tasks whose attempts are spent or that failed permanently. Reading
 * needs `tasks:read` (one's own tenant); changing it needs `admin`.
 */
@Controller('dlq')
@RequiresScope(ApiKeyScope.Admin)
export class DeadLettersController {
  constructor(
    private readonly queries: TaskQueries,
    private readonly lifecycle: TaskLifecycleService,
  ) {}

  /** Most recent death first; filters `type`, `from`, `to` (time of death); cursor pages. */
  @Get()
  @RequiresScope(ApiKeyScope.TasksRead)
  async list(@Query() query: ListDeadLettersQuery, @CurrentPrincipal() principal: Principal): Promise<TaskPage> {
    try {
      const { type, finishedFrom: from, finishedTo: to } = selectionOf(query);
      const page = await this.queries.listDead({ tenant: tenantScope(principal), type, from, to, cursor: query.cursor, limit: query.limit ?? DEFAULT_PAGE_SIZE });
      return { items: page.items.map(toTaskSummary), nextCursor: page.nextCursor };
    } catch (error) {
      throw asCursorProblem(error);
    }
  }

  /** A dead task with its last error and full attempt history. */
  @Get(':id')
  @RequiresScope(ApiKeyScope.TasksRead)
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<TaskView> {
    const task = await this.queries.findTask(id, tenantScope(principal));
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
  requeue(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<SubmitTaskResponse> {
    return this.lifecycle.requeueDead(id, tenantScope(principal));
  }

  /** Clears the dead-letter queue, or the part matching the filter. */
  @Delete()
  async clear(@Query() filter: DeadLetterFilter): Promise<CountResponse> {
    return { count: await this.lifecycle.deleteDeadMatching(selectionOf(filter)) };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.lifecycle.deleteDead(id, tenantScope(principal));
  }
}
