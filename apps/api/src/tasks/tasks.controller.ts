import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ApiKeyScope,
  BulkSubmitDto,
  ListTasksQuery,
  SubmitTaskDto,
  type BulkSubmitResponse,
  type CallbackDeliveryView,
  type SubmitTaskResponse,
  type TaskPage,
  type TaskStatus,
  type TaskView,
} from '@taskq/contracts';
import { CurrentPrincipal, principalOf } from '../auth/current-principal.decorator';
import { tenantScope, type Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ProblemException } from '../errors/problem.exception';
import { ApiAnswer, ApiJsonBody, ApiProblems, ApiQueryFrom, LOCATION_HEADER } from '../docs/api-docs.decorators';
import { TaskLifecycleService } from './task-lifecycle.service';
import { TaskSubmissionService } from './task-submission.service';
import { TasksService } from './tasks.service';
import { tenantFilterOf } from './tenant-filter';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** A bulk request's key, shorter by what `:<index>` adds to it for each task (the column holds 200). */
const BULK_IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,196}$/;

const TASK_ID = ApiParam({ name: 'id', description: 'Task id.', schema: { type: 'string', format: 'uuid' } });

@Controller()
@ApiTags('tasks')
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
  @ApiOperation({
    summary: 'Submit a task',
    description: 'Stores the task in PostgreSQL, then queues it. `POST /submit-task` and `POST /tasks` are the same operation.',
  })
  @ApiJsonBody(SubmitTaskDto, {
    email: { summary: 'An email', value: { type: 'email', payload: { to: 'ops@example.com', subject: 'Hello', text: 'Sent by taskq' } } },
    webhook: { summary: 'A webhook, most urgent', value: { type: 'webhook', payload: { url: 'https://example.com/hooks/order', method: 'POST', body: { order: 42 } }, priority: 1 } },
    delayed: { summary: 'A report, not before a time', value: { type: 'report', payload: { windowMinutes: 60 }, runAt: '2026-12-01T00:00:00Z' } },
    retries: {
      summary: 'In 5 minutes, at most 3 attempts 10 s apart, 5 s each',
      value: { type: 'webhook', payload: { url: 'https://example.com/hook' }, delayMs: 300000, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 10000, jitter: 'none' }, timeoutMs: 5000 },
    },
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and same body: the original task (200). Wins over `idempotencyKey`.', schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' } })
  @ApiAnswer(202, 'Accepted: the task is committed and queued.', 'SubmitTaskResponse', LOCATION_HEADER)
  @ApiAnswer(200, 'An idempotency key seen before, with the same body: the original task.', 'SubmitTaskResponse', LOCATION_HEADER)
  @ApiProblems({
    400: 'Unknown type, invalid payload or option, unknown field, or a malformed Idempotency-Key (see errors[]). Nothing is stored.',
    422: 'The idempotency key was used before with a different body.',
    503: "Redis or PostgreSQL is unavailable, or the type's queue is over MAX_BACKLOG (with Retry-After). Nothing is accepted.",
  })
  // The busiest route takes the request itself rather than one parameter per header and the
  // principal: each parameter would cost a pass through the global pipe.
  async submit(@Body() body: SubmitTaskDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<SubmitTaskResponse> {
    const idempotencyKey = request.headers['idempotency-key'];
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
      throw ProblemException.validation([{ field: 'Idempotency-Key', messages: ['must be 1 to 200 printable ASCII characters'] }]);
    }
    const { replayed, task } = await this.submissions.submit(body, idempotencyKey, principalOf(request).tenant);
    void reply.header('location', `/tasks/${task.id}`);
    if (replayed) void reply.status(200);
    return task;
  }

  /** Up to 1,000 tasks, all or none. 200 instead of 202 when every task is the answer to an earlier request. */
  @Post('tasks/bulk')
  @HttpCode(202)
  @RequiresScope(ApiKeyScope.TasksWrite)
  @ApiOperation({
    summary: 'Submit up to 1,000 tasks',
    description:
      'All are validated first: if any is invalid, none is stored. With an `Idempotency-Key` header the whole request is idempotent: ' +
      'task *i* is stored with the key `<Idempotency-Key>:<i>` (over its own `idempotencyKey`), and sending the same tasks again with the same ' +
      'header answers 200 with the original tasks and stores nothing; other tasks with the same header are refused with 422. ' +
      'Without the header, each task\'s own `idempotencyKey` works as on `POST /tasks`.',
  })
  @ApiJsonBody(BulkSubmitDto, {
    two: { summary: 'Two tasks', value: { tasks: [{ type: 'noop', payload: {} }, { type: 'sleep', payload: { ms: 100 }, priority: 5 }] } },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and same tasks: the original tasks (200). Task i is stored with the key `<Idempotency-Key>:<i>`, hence at most 196 characters.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,196}$' },
  })
  @ApiAnswer(202, 'Accepted: every task is committed and queued.', 'BulkSubmitResponse')
  @ApiAnswer(200, 'Every task is the original task of an idempotency key seen before with the same body (a replay).', 'BulkSubmitResponse')
  @ApiProblems({
    400: 'A task is invalid (errors[] names each by index, e.g. tasks.3.payload.ms), or a malformed Idempotency-Key; none is stored.',
    413: 'The body is larger than BULK_BODY_LIMIT_BYTES (5 MiB by default).',
    422: 'An idempotency key was used before with a different body.',
    503: "Redis or PostgreSQL is unavailable, or a type's queue is over MAX_BACKLOG. Nothing is accepted.",
  })
  async submitBulk(
    @Body() body: BulkSubmitDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BulkSubmitResponse> {
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !BULK_IDEMPOTENCY_KEY.test(idempotencyKey))) {
      throw ProblemException.validation([{ field: 'Idempotency-Key', messages: ['must be 1 to 196 printable ASCII characters'] }]);
    }
    const { replayed, tasks } = await this.submissions.submitBulk(body, principal.tenant, idempotencyKey);
    if (replayed) void reply.status(200);
    return { count: tasks.length, tasks };
  }

  /** Newest first; the caller's tenant only (every tenant's, or the one `tenant` names, for admin keys). */
  @Get('tasks')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({
    summary: 'List tasks',
    description:
      "Newest first, in cursor pages; the key's tenant only (every tenant's for admin keys, or the one `tenant` names). " +
      '`from` and `to` bound the creation time; `q` finds a task by its id or its idempotency key (exact match).',
  })
  @ApiQueryFrom(ListTasksQuery)
  @ApiAnswer(200, 'One page of tasks.', 'TaskPage')
  @ApiProblems({
    400: 'An invalid filter or cursor, an unknown type (the valid ones are named), or `to` not after `from` (see errors[]).',
    403: 'The key lacks `tasks:read`, or is no admin key and names another tenant in `tenant`.',
  })
  list(@Query() query: ListTasksQuery, @CurrentPrincipal() principal: Principal): Promise<TaskPage> {
    return this.tasks.list(query, tenantFilterOf(principal, query.tenant));
  }

  @Get('tasks/:id')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({ summary: 'Read a task', description: 'Status, payload, result or last error, and every attempt.' })
  @TASK_ID
  @ApiAnswer(200, 'The task.', 'TaskView')
  @ApiProblems({ 404: "No task with this id (or it is another tenant's)." })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<TaskView> {
    return this.tasks.get(id, tenantScope(principal));
  }

  @Get('tasks/:id/callbacks')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({ summary: "A task's callback deliveries", description: 'Every try of every completion callback the task owed, oldest first: time, status code, error, duration.' })
  @TASK_ID
  @ApiAnswer(200, 'The tries.', 'CallbackDeliveryList')
  @ApiProblems({ 404: "No task with this id (or it is another tenant's)." })
  callbacks(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<{ items: CallbackDeliveryView[] }> {
    return this.tasks.callbackDeliveries(id, tenantScope(principal));
  }

  /** A dead or cancelled task runs again with a fresh attempt budget; its history stays. */
  @Post('tasks/:id/retry')
  @HttpCode(202)
  @RequiresScope(ApiKeyScope.TasksWrite)
  @ApiOperation({ summary: 'Retry a dead or cancelled task', description: 'It runs again with a fresh attempt budget; its history stays.' })
  @TASK_ID
  @ApiAnswer(202, 'Queued again.', 'SubmitTaskResponse')
  @ApiProblems({ 404: 'No task with this id.', 409: 'The task is not dead or cancelled, or is still stopping on a worker.' })
  retry(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<SubmitTaskResponse> {
    return this.lifecycle.retry(id, tenantScope(principal));
  }

  @Post('tasks/:id/cancel')
  @HttpCode(200)
  @RequiresScope(ApiKeyScope.TasksWrite)
  @ApiOperation({ summary: 'Cancel a task', description: "A waiting task leaves its queue at once; a running one's AbortSignal fires on its worker." })
  @TASK_ID
  @ApiAnswer(200, 'Cancelled.', 'CancelResponse')
  @ApiProblems({ 404: 'No task with this id.', 409: 'The task has already finished.' })
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<{ id: string; status: TaskStatus; previousStatus: TaskStatus }> {
    return this.lifecycle.cancel(id, tenantScope(principal));
  }
}
