import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ListTasksQuery, SubmitTaskDto, type SubmitTaskResponse, type TaskPage, type TaskView } from '@taskq/contracts';
import { TasksService } from './tasks.service';

@Controller()
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  /** `POST /submit-task` is the product's headline route; `POST /tasks` is its REST name. */
  @Post(['submit-task', 'tasks'])
  @HttpCode(202)
  async submit(@Body() body: SubmitTaskDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<SubmitTaskResponse> {
    const accepted = await this.tasks.submit(body);
    void reply.header('location', `/tasks/${accepted.id}`);
    return accepted;
  }

  @Get('tasks')
  list(@Query() query: ListTasksQuery): Promise<TaskPage> {
    return this.tasks.list(query);
  }

  @Get('tasks/:id')
  get(@Param('id') id: string): Promise<TaskView> {
    return this.tasks.get(id);
  }
}
