import { Type } from 'class-transformer';
import { IsEnum, IsIn, IsISO8601, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { TASK_TYPE_NAMES } from '../task-registry';
import { TaskStatus } from '../task-status';
import { TENANT_NAME_MESSAGE, TENANT_NAME_PATTERN } from './api-key.dto';

export const MAX_PAGE_SIZE = 100;

/** Query of `GET /tasks`: newest first, filtered, paged by an opaque cursor. */
export class ListTasksQuery {
  @IsOptional()
  @IsEnum(TaskStatus)
  status?: TaskStatus;

  @IsOptional()
  @IsIn(TASK_TYPE_NAMES, { message: `type must be one of: ${TASK_TYPE_NAMES.join(', ')}` })
  type?: string;

  /** Only the tasks this recurring schedule created. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  schedule?: string;

  /** Created at or after this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Created before this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  /** A task id or an idempotency key, matched exactly. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  /** Admin keys: only this tenant's tasks (other keys may name only their own tenant). */
  @IsOptional()
  @IsString()
  @Matches(TENANT_NAME_PATTERN, { message: TENANT_NAME_MESSAGE })
  tenant?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
