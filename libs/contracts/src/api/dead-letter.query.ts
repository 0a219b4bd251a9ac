import { Type } from 'class-transformer';
import { IsISO8601, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_PAGE_SIZE } from './list-tasks.query';

/** Which dead tasks a DLQ request is about: by type and by the time they died. */
export class DeadLetterFilter {
  @IsOptional()
  @IsString()
  @MaxLength(100)
  type?: string;

  /** Only the dead tasks whose last error is exactly this (a group of `GET /dlq/groups`). */
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  error?: string;

  /** Died at or after this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Died before this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

/** Query of `GET /dlq`: newest deaths first, cursor pages. */
export class ListDeadLettersQuery extends DeadLetterFilter {
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

/** `GET /dlq/groups`: dead tasks of one type that died of the same error. */
export interface DeadLetterGroupView {
  type: string;
  /** The last error they share; null for tasks that died without a message. */
  error: string | null;
  count: number;
  firstDiedAt: string;
  lastDiedAt: string;
}

export interface CountResponse {
  count: number;
}
