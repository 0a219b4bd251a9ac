import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyScope, CreateScheduleDto, UpdateScheduleDto, type ScheduleList, type ScheduleView } from '@taskq/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { SchedulesService } from './schedules.service';

/**
 * Recurring schedules: each run creates an ordinary task (see `GET /tasks?schedule=<name>`)
 * owned by the tenant of the key that created the schedule. Admin keys only.
 */
@Controller('schedules')
@RequiresScope(ApiKeyScope.Admin)
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateScheduleDto, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<ScheduleView> {
    const schedule = await this.schedules.create(body, principal.tenant);
    void reply.header('location', `/schedules/${schedule.name}`);
    return schedule;
  }

  /** Every schedule, sorted by name. */
  @Get()
  list(): Promise<ScheduleList> {
    return this.schedules.list();
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<ScheduleView> {
    return this.schedules.get(name);
  }

  @Patch(':name')
  update(@Param('name') name: string, @Body() body: UpdateScheduleDto): Promise<ScheduleView> {
    return this.schedules.update(name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  async delete(@Param('name') name: string): Promise<void> {
    await this.schedules.delete(name);
  }
}
