import { IsDefined, IsISO8601, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 1_000;

/** Body of `POST /submit-task` and `POST /tasks`. The payload is validated against its type's DTO. */
export class SubmitTaskDto {
  @IsString()
  @MaxLength(100)
  type!: string;

  @IsDefined()
  @IsObject()
  payload!: Record<string, unknown>;

  /** Lower runs first (1 = most urgent). Tasks without a priority run after prioritised ones. */
  @IsOptional()
  @IsInt()
  @Min(MIN_PRIORITY)
  @Max(MAX_PRIORITY)
  priority?: number;

  /** ISO 8601 time before which the task must not start. */
  @IsOptional()
  @IsISO8601({ strict: true })
  runAt?: string;
}

export interface SubmitTaskResponse {
  id: string;
  type: string;
  status: string;
  createdAt: string;
}
