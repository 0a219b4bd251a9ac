import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TaskStatus } from '../task-status';

const STATUS_LIST = new RegExp(`^(${Object.values(TaskStatus).join('|')})(,(${Object.values(TaskStatus).join('|')}))*$`);

/** Query of `GET /events`: which task events to stream. */
export class TaskEventsQuery {
  /** Only these task types (comma-separated). */
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  @Matches(/^[a-z0-9_-]+(,[a-z0-9_-]+)*$/i, { message: 'must be task types separated by commas' })
  type?: string;

  /** Only status events of these statuses (comma-separated); progress events come with `active`. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(STATUS_LIST, { message: `must be statuses separated by commas (${Object.values(TaskStatus).join(', ')})` })
  status?: string;

  /** Where to resume, for clients that cannot send the `Last-Event-ID` header. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  lastEventId?: string;
}

/** Query of `GET /tasks/:id/events`. */
export class TaskEventStreamQuery {
  @IsOptional()
  @IsString()
  @MaxLength(100)
  lastEventId?: string;
}
