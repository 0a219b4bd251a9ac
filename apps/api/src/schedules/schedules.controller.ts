import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CreateScheduleDto, UpdateScheduleDto, type ScheduleList, type ScheduleView } from '@taskq/contracts';
import { SchedulesService } from './schedules.service';

/** Recurring schedules: each run creates an ordinary task (see `GET /tasks?schedule=<name>`). */
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateScheduleDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ScheduleView> {
    const schedule = await this.schedules.create(body);
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
