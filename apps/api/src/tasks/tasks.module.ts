import { Module } from '@nestjs/common';
import { BacklogGate } from './backlog-gate';
import { DeadLettersController } from './dead-letters.controller';
import { TaskLifecycleService } from './task-lifecycle.service';
import { TaskSubmissionService } from './task-submission.service';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  controllers: [TasksController, DeadLettersController],
  providers: [TasksService, TaskSubmissionService, TaskLifecycleService, BacklogGate],
})
export class TasksModule {}
