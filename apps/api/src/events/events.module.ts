import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { TaskEventHub } from './task-event-hub';

@Module({
  controllers: [EventsController],
  providers: [TaskEventHub],
})
export class EventsModule {}
