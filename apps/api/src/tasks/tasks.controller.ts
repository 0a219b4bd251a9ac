import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiKeyScope,
  BulkSubmitDto,
  ListTasksQuery,
  SubmitTaskDto,
  type BulkSubmitResponse,
  type SubmitTaskResponse,
  type TaskPage,
  type TaskStatus,
  type TaskView,
} from '@taskq/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { tenantScope, type Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ProblemException } from '../errors/problem.exception';
import { TaskLifecycleService } from './task-lifecycle.service';
import { TaskSubmissionService } from './task-submission.service';
import { TasksService } from './tasks.service';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

@Controller()
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly submissions: TaskSubmissionService,
    private readonly lifecycle: TaskLifecycleService,
  ) {}

  /**
   * `POST /submit-task` is the product's headline route; `POST /tasks` is its REST name.
   * 202 for a new task; 200 with the original task when an idempotency key is replayed.
   */
  @Post(['submit-task', 'tasks'])
  @HttpCode(202)
  @RequiresScope(ApiKeyScope.TasksWrite)
  async submit(
    @Body() body: SubmitTaskDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubmitTaskResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw ProblemException.validation([{ field: 'Idempotency-Key', messages: ['must be 1 to 200 printable ASCII characters'] }]);
    }
    const { replayed, task } = await this.submissions.submit(body, idempotencyKey, principal.tenant);
    void reply.header('location', `/tasks/${task.id}`);
    if (replayed) void reply.status(200);
    return task;
  }

  /** Up to 1,000 tasks, all or none. */
  @Post('tasks/bulk')
  @HttpCode(202)
  @RequiresScope(ApiKeyScope.TasksWrite)
  async submitBulk(@Body() body: BulkSubmitDto, @CurrentPrincipal() principal: Principal): Promise<BulkSubmitResponse> {
    const tasks = await this.submissions.submitBulk(body, principal.tenant);
    return { count: tasks.length, tasks };
  }

  /** Newest first; the caller's tenant only (every tenant's for admin keys). */
  @Get('tasks')
  @RequiresScope(ApiKeyScope.TasksRead)
  list(@Query() query: ListTasksQuery, @CurrentPrincipal() principal: Principal): Promise<TaskPage> {
    return this.tasks.list(query, tenantScope(principal));
  }

  @Get('tasks/:id')
  @RequiresScope(ApiKeyScope.TasksRead)
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<TaskView> {
    return this.tasks.get(id, tenantScope(principal));
  }

  /** A dead or cancelled task runs again with a fresh attempt budget; its history stays. */
  @Post('tasks/:id/retry')
  @HttpCode(202)
  @RequiresScope(ApiKeyScope.TasksWrite)
  retry(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<SubmitTaskResponse> {
    return this.lifecycle.retry(id, tenantScope(principal));
  }

  @Post('tasks/:id/cancel')
  @HttpCode(200)
  @RequiresScope(ApiKeyScope.TasksWrite)
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<{ id: string; status: TaskStatus; previousStatus: TaskStatus }> {
    return this.lifecycle.cancel(id, tenantScope(principal));
  }
}
