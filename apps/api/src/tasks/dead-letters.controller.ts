import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiKeyScope, DeadLetterFilter, ListDeadLettersQuery, TaskStatus, type CountResponse, type DeadLetterGroupView, type SubmitTaskResponse, type TaskPage, type TaskView } from '@taskq/contracts';
import { DeadLetterGroups, TaskQueries, toTaskSummary, toTaskView, type TaskSelection } from '@taskq/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { tenantScope, type Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ProblemException } from '../errors/problem.exception';
import { ApiAnswer, ApiProblems, ApiQueryFrom } from '../docs/api-docs.decorators';
import { TaskLifecycleService } from './task-lifecycle.service';
import { DEFAULT_PAGE_SIZE, asCursorProblem } from './tasks.service';

const TASK_ID = ApiParam({ name: 'id', description: 'Task id.', schema: { type: 'string', format: 'uuid' } });

const selectionOf = (filter: DeadLetterFilter): Omit<TaskSelection, 'statuses' | 'ids'> => ({
  type: filter.type,
  error: filter.error,
  finishedFrom: filter.from ? new Date(filter.from) : undefined,
  finishedTo: filter.to ? new Date(filter.to) : undefined,
});

/**
 * The dead-letter queue: tasks whose attempts are spent or that failed permanently. Reading
 * needs `tasks:read` (one's own tenant); changing it needs `admin` (every tenant's).
 */
@Controller('dlq')
@RequiresScope(ApiKeyScope.Admin)
@ApiTags('dead-letter queue')
export class DeadLettersController {
  constructor(
    private readonly queries: TaskQueries,
    private readonly lifecycle: TaskLifecycleService,
    private readonly deadLetterGroups: DeadLetterGroups,
  ) {}

  /** Most recent death first; filters `type`, `from`, `to` (time of death); cursor pages. */
  @Get()
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({ summary: 'List dead tasks', description: 'Most recent death first; filters `type`, `from`, `to` (time of death); cursor pages.' })
  @ApiQueryFrom(ListDeadLettersQuery)
  @ApiAnswer(200, 'One page of dead tasks.', 'TaskPage')
  @ApiProblems({ 400: 'An invalid filter or cursor (see errors[]).' })
  async list(@Query() query: ListDeadLettersQuery, @CurrentPrincipal() principal: Principal): Promise<TaskPage> {
    try {
      const { type, error, finishedFrom: from, finishedTo: to } = selectionOf(query);
      const page = await this.queries.listDead({ tenant: tenantScope(principal), type, error, from, to, cursor: query.cursor, limit: query.limit ?? DEFAULT_PAGE_SIZE });
      return { items: page.items.map(toTaskSummary), nextCursor: page.nextCursor };
    } catch (error) {
      throw asCursorProblem(error);
    }
  }

  /** Dead tasks grouped by type and last error, biggest groups first. */
  @Get('groups')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({
    summary: 'Dead tasks by type and error',
    description: 'The dead tasks (of your tenant; admin keys: of every tenant) grouped by type and last error, biggest groups first, at most 500 groups. Act on a group with `POST /dlq/requeue` or `DELETE /dlq` and its `type` and `error`.',
  })
  @ApiAnswer(200, 'The groups.', { type: 'array', items: { $ref: '#/components/schemas/DeadLetterGroupView' } })
  groups(@CurrentPrincipal() principal: Principal): Promise<DeadLetterGroupView[]> {
    return this.deadLetterGroups.list(tenantScope(principal));
  }

  /** A dead task with its last error and full attempt history. */
  @Get(':id')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({ summary: 'Read a dead task', description: 'Its last error and every attempt.' })
  @TASK_ID
  @ApiAnswer(200, 'The dead task.', 'TaskView')
  @ApiProblems({ 404: 'No dead task with this id.' })
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<TaskView> {
    const task = await this.queries.findTask(id, tenantScope(principal));
    if (!task || task.status !== TaskStatus.Dead) throw ProblemException.notFound(`No dead task with id "${id}".`);
    return toTaskView(task);
  }

  /** Requeues every dead task matching the filter (all when none is given). */
  @Post('requeue')
  @HttpCode(200)
  @ApiOperation({ summary: 'Requeue dead tasks', description: 'Every dead task matching the filter (all when none is given) runs again, attempts reset.' })
  @ApiQueryFrom(DeadLetterFilter)
  @ApiAnswer(200, 'How many were requeued.', 'CountResponse')
  @ApiProblems({ 400: 'An invalid filter (see errors[]).', 409: 'Some tasks are still stopping on a worker; retry in a moment.' })
  async requeueMatching(@Query() filter: DeadLetterFilter): Promise<CountResponse> {
    return { count: await this.lifecycle.requeueDeadMatching(selectionOf(filter)) };
  }

  @Post(':id/requeue')
  @HttpCode(202)
  @ApiOperation({ summary: 'Requeue a dead task', description: 'It runs again, attempts reset; its history stays.' })
  @TASK_ID
  @ApiAnswer(202, 'Queued again.', 'SubmitTaskResponse')
  @ApiProblems({ 404: 'No dead task with this id.', 409: 'The task is still stopping on a worker; retry in a moment.' })
  requeue(@Param('id') id: string): Promise<SubmitTaskResponse> {
    return this.lifecycle.requeueDead(id);
  }

  /** Clears the dead-letter queue, or the part matching the filter. */
  @Delete()
  @ApiOperation({ summary: 'Delete dead tasks', description: 'Deletes the dead tasks matching the filter (all when none is given), with their attempts.' })
  @ApiQueryFrom(DeadLetterFilter)
  @ApiAnswer(200, 'How many were deleted.', 'CountResponse')
  @ApiProblems({ 400: 'An invalid filter (see errors[]).' })
  async clear(@Query() filter: DeadLetterFilter): Promise<CountResponse> {
    return { count: await this.lifecycle.deleteDeadMatching(selectionOf(filter)) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a dead task' })
  @TASK_ID
  @ApiAnswer(204, 'Deleted.', null)
  @ApiProblems({ 404: 'No dead task with this id.' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.lifecycle.deleteDead(id);
  }
}
