import { Controller, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyScope, TaskEventStreamQuery, TaskEventsQuery, isTaskType, type TaskEvent, type TaskStatus } from '@taskq/contracts';
import { ApiConfig } from '@taskq/config';
import { TaskEventHistory, isTaskId } from '@taskq/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { tenantScope, type Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ApiEventStream, ApiProblems, ApiQueryFrom } from '../docs/api-docs.decorators';
import { ProblemException, problemType } from '../errors/problem.exception';
import { timeOfCursor } from './event-cursor';
import { EventWatcher, type EventFilter } from './event-watcher';
import { SseStream } from './sse-stream';
import { TaskEventHub } from './task-event-hub';

const LAST_EVENT_ID = ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The `id` of the last event received: the stream resumes after it (terminal states are caught up from PostgreSQL).' });

/** Live task events as Server-Sent Events: status changes and progress, announced by whichever process committed them. */
@Controller()
@ApiTags('events')
export class EventsController {
  constructor(
    private readonly hub: TaskEventHub,
    private readonly history: TaskEventHistory,
    private readonly config: ApiConfig,
  ) {}

  @Get('events')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({
    summary: 'Stream task events',
    description:
      "Every status change and progress report of the key's tenant's tasks (every tenant's for admin keys), as they are committed. " +
      'With `Last-Event-ID` (or `lastEventId`), the terminal states reached since that event are sent first, from PostgreSQL. ' +
      'Terminal states are never missed; a terminal event may arrive twice (same `id`): drop repeats by id.',
  })
  @ApiQueryFrom(TaskEventsQuery)
  @LAST_EVENT_ID
  @ApiEventStream('An endless stream of `status` and `progress` events, with heartbeats.')
  @ApiProblems({ 400: 'An unknown type or status, or a Last-Event-ID that is not one of ours.' })
  async streamAll(
    @Query() query: TaskEventsQuery,
    @Headers('last-event-id') lastEventHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const filter: EventFilter = { tenant: tenantScope(principal), ...typeAndStatusFilter(query) };
    const resumeFrom = resumeTime(lastEventHeader ?? query.lastEventId);
    await this.open(principal, request, reply, filter, false, async () => (resumeFrom ? this.hub.catchUp(filter, resumeFrom) : []));
  }

  @Get('tasks/:id/events')
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({
    summary: "Stream one task's events",
    description: "The task's current status first (and its latest progress while it runs), then its changes; the stream ends after its terminal state, at once for a finished task.",
  })
  @ApiParam({ name: 'id', description: 'Task id.', schema: { type: 'string', format: 'uuid' } })
  @ApiQueryFrom(TaskEventStreamQuery)
  @LAST_EVENT_ID
  @ApiEventStream('`status` and `progress` events of the task, ending with its terminal `status` event.')
  @ApiProblems({ 404: "No task with this id (or it is another tenant's)." })
  async streamTask(
    @Param('id') id: string,
    @Query() _query: TaskEventStreamQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const notFound = (): ProblemException => ProblemException.notFound(`No task with id "${id}".`);
    if (!isTaskId(id)) throw notFound();
    const tenant = tenantScope(principal);
    await this.open(principal, request, reply, { taskId: id, tenant }, true, async () => {
      const snapshot = await this.history.snapshot(id, tenant);
      if (!snapshot) throw notFound();
      return [snapshot.status, ...(snapshot.progress ? [snapshot.progress] : [])];
    });
  }

  /**
   * Starts the stream: counted against the key's limit, watched (live) before its opening
   * events are read, so a change committed in between is held back rather than lost. A
   * failure up to there is an ordinary problem response; only then does the stream begin.
   */
  private async open(
    principal: Principal,
    request: FastifyRequest,
    reply: FastifyReply,
    filter: EventFilter,
    endOnTerminal: boolean,
    opening: () => Promise<readonly TaskEvent[]>,
  ): Promise<void> {
    const release = this.hub.lease(principal.keyPrefix);
    if (!release) {
      throw new ProblemException(
        {
          type: problemType('too-many-streams'),
          title: 'Too many streams',
          status: 429,
          detail: `This API key already has ${this.config.sseMaxStreamsPerKey} event streams open on this server (SSE_MAX_STREAMS_PER_KEY): close one first.`,
        },
        { 'retry-after': '5' },
      );
    }
    const watcher = new EventWatcher(filter, endOnTerminal);
    const stop = await this.hub.add(watcher);
    let events: readonly TaskEvent[];
    try {
      events = await opening();
    } catch (error) {
      stop();
      release();
      throw error;
    }
    void reply.hijack();
    const stream = new SseStream(reply.raw, this.config.sseHeartbeatMs, headersOf(reply));
    stream.onClose(() => {
      stop();
      release();
    });
    request.raw.on('close', () => stream.end());
    // The client may have left while the opening events were read.
    if (request.raw.socket.destroyed) stream.end();
    watcher.start(stream, events);
  }
}

function typeAndStatusFilter(query: TaskEventsQuery): Pick<EventFilter, 'types' | 'statuses'> {
  const types = query.type?.split(',');
  const unknown = types?.filter((type) => !isTaskType(type)) ?? [];
  if (unknown.length > 0) throw ProblemException.validation([{ field: 'type', messages: [`unknown task type(s): ${unknown.join(', ')} (see GET /task-types)`] }]);
  return {
    ...(types ? { types: new Set(types) } : {}),
    ...(query.status ? { statuses: new Set(query.status.split(',') as TaskStatus[]) } : {}),
  };
}

function resumeTime(lastEventId: string | undefined): Date | undefined {
  if (lastEventId === undefined || lastEventId === '') return undefined;
  const time = timeOfCursor(lastEventId);
  if (!time) throw ProblemException.validation([{ field: 'Last-Event-ID', messages: ['is not an event id this API sent'] }]);
  return time;
}

/** Headers Fastify's hooks already set (request id, rate limits) go out with the stream's own. */
function headersOf(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = String(value);
  return headers;
}
