import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyScope, CreateScheduleDto, UpdateScheduleDto, type ScheduleList, type ScheduleView, type SubmitTaskResponse } from '@taskq/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer, ApiJsonBody, ApiProblems, LOCATION_HEADER } from '../docs/api-docs.decorators';
import { SchedulesService } from './schedules.service';

const NAME = ApiParam({ name: 'name', description: 'Schedule name.', schema: { type: 'string' } });

/**
 * Recurring schedules: each run creates an ordinary task (see `GET /tasks?schedule=<name>`)
 * owned by the tenant of the key that created the schedule. Admin keys only.
 */
@Controller('schedules')
@RequiresScope(ApiKeyScope.Admin)
@ApiTags('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a schedule', description: 'Each time the cron expression fires, a task of `type` with `payload` is submitted.' })
  @ApiJsonBody(CreateScheduleDto, {
    nightly: { summary: 'A report every night at 03:00, Paris time', value: { name: 'nightly-report', cron: '0 3 * * *', tz: 'Europe/Paris', type: 'report', payload: { windowMinutes: 1440 } } },
  })
  @ApiAnswer(201, 'Created.', 'ScheduleView', LOCATION_HEADER)
  @ApiProblems({ 400: 'Invalid name, cron expression, time zone, type or payload (see errors[]).', 409: 'A schedule with this name exists.', 503: 'Redis or PostgreSQL is unavailable; nothing was created.' })
  async create(@Body() body: CreateScheduleDto, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<ScheduleView> {
    const schedule = await this.schedules.create(body, principal.tenant);
    void reply.header('location', `/schedules/${schedule.name}`);
    return schedule;
  }

  /** Every schedule, sorted by name. */
  @Get()
  @ApiOperation({ summary: 'List schedules', description: 'Every schedule, sorted by name.' })
  @ApiAnswer(200, 'Every schedule.', 'ScheduleList')
  list(): Promise<ScheduleList> {
    return this.schedules.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'Read a schedule', description: 'With its last and next run.' })
  @NAME
  @ApiAnswer(200, 'The schedule.', 'ScheduleView')
  @ApiProblems({ 404: 'No schedule with this name.' })
  get(@Param('name') name: string): Promise<ScheduleView> {
    return this.schedules.get(name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Change a schedule', description: 'Any of cron, tz, type, payload and enabled; the rest stays.' })
  @NAME
  @ApiJsonBody(UpdateScheduleDto, {
    pause: { summary: 'Pause it', value: { enabled: false } },
    move: { summary: 'Resume it, on weekdays at 04:30', value: { enabled: true, cron: '30 4 * * 1-5' } },
  })
  @ApiAnswer(200, 'The changed schedule.', 'ScheduleView')
  @ApiProblems({ 400: 'Nothing to change, or an invalid field (see errors[]).', 404: 'No schedule with this name.', 503: 'Redis or PostgreSQL is unavailable; nothing was changed.' })
  update(@Param('name') name: string, @Body() body: UpdateScheduleDto): Promise<ScheduleView> {
    return this.schedules.update(name, body);
  }

  @Post(':name/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a schedule', description: 'The same as `PATCH` with `{"enabled": false}`: it is kept, and runs no more until resumed. Pausing a paused schedule changes nothing.' })
  @NAME
  @ApiAnswer(200, 'The paused schedule.', 'ScheduleView')
  @ApiProblems({
    400: "The stored schedule no longer validates (its type's rules changed): PATCH it with a valid payload.",
    404: 'No schedule with this name.',
    503: 'Redis or PostgreSQL is unavailable; nothing was changed.',
  })
  pause(@Param('name') name: string): Promise<ScheduleView> {
    return this.schedules.pause(name);
  }

  @Post(':name/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a schedule', description: 'The same as `PATCH` with `{"enabled": true}`: it runs again from its next due time (runs missed while paused are not made up).' })
  @NAME
  @ApiAnswer(200, 'The resumed schedule, with its next run.', 'ScheduleView')
  @ApiProblems({
    400: "The stored schedule no longer validates (its type's rules changed): PATCH it with a valid payload.",
    404: 'No schedule with this name.',
    503: 'Redis or PostgreSQL is unavailable; nothing was changed.',
  })
  resume(@Param('name') name: string): Promise<ScheduleView> {
    return this.schedules.resume(name);
  }

  @Post(':name/run')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Run a schedule now',
    description:
      'Submits one task from the schedule at once, as its cron runs do (its type, payload, callback and tenant, and its name in `scheduleName`); ' +
      'its cron runs go on as before. A paused schedule runs too. Each call submits a task.',
  })
  @NAME
  @ApiAnswer(202, 'Accepted: the task is committed and queued.', 'SubmitTaskResponse', LOCATION_HEADER)
  @ApiProblems({
    404: 'No schedule with this name.',
    409: "The stored schedule no longer validates (its type's rules changed): PATCH it with a valid payload.",
    503: 'Redis or PostgreSQL is unavailable; no task was created.',
  })
  async run(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<SubmitTaskResponse> {
    const task = await this.schedules.runNow(name);
    void reply.header('location', `/tasks/${task.id}`);
    return task;
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a schedule', description: 'The tasks it created stay.' })
  @NAME
  @ApiAnswer(204, 'Deleted.', null)
  @ApiProblems({ 404: 'No schedule with this name.', 503: 'Redis or PostgreSQL is unavailable; nothing was deleted.' })
  async delete(@Param('name') name: string): Promise<void> {
    await this.schedules.delete(name);
  }
}
