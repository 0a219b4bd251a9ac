import { Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsISO8601,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 1_000;
export const MAX_ATTEMPTS_LIMIT = 50;
/** Tasks cannot be scheduled further ahead than this. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3_600_000;
export const MAX_TIMEOUT_MS = 3_600_000;
export const MAX_BACKOFF_DELAY_MS = 24 * 3_600_000;
export const MAX_CALLBACK_URL_LENGTH = 2_048;

/** A completion callback's target: http(s), absolute. Private and loopback hosts are refused separately (they need the network's context). */
export const CALLBACK_URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** A per-task retry policy; omitted fields come from the task type's default. */
export class BackoffOverrideDto {
  @IsOptional()
  @IsIn(['exponential', 'fixed'])
  type?: 'exponential' | 'fixed';

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_BACKOFF_DELAY_MS)
  delayMs?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_BACKOFF_DELAY_MS)
  maxDelayMs?: number;

  @IsOptional()
  @IsIn(['full', 'none'])
  jitter?: 'full' | 'none';
}

/** Body of `POST /submit-task` and `POST /tasks`. The payload is validated against its type's DTO. */
export class SubmitTaskDto {
  @IsString()
  @MaxLength(100)
  type!: string;

  @IsDefined()
  @IsObject()
  payload!: Record<string, unknown>;

  /** Lower runs first (1 = most urgent, 1000 = least). Tasks without a priority run after prioritised ones, in FIFO order. */
  @IsOptional()
  @IsInt()
  @Min(MIN_PRIORITY)
  @Max(MAX_PRIORITY)
  priority?: number;

  /** ISO 8601 time before which the task must not start. In the past: runs now. */
  @IsOptional()
  @IsISO8601({ strict: true })
  runAt?: string;

  /** Alias of `runAt`, for clients that speak SQS/Azure queue terms. */
  @IsOptional()
  @IsISO8601({ strict: true })
  visibility_time?: string;

  /** Run no earlier than this many milliseconds from now (instead of `runAt`). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_SCHEDULE_AHEAD_MS)
  delayMs?: number;

  /** Total attempts, the first included (default: the type's). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_ATTEMPTS_LIMIT)
  maxAttempts?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => BackoffOverrideDto)
  backoff?: BackoffOverrideDto;

  /** Per-attempt deadline (default: the type's). */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(MAX_TIMEOUT_MS)
  timeoutMs?: number;

  /** Same key and same body returns the original task for as long as it is kept (at least 24 h). The `Idempotency-Key` header wins. */
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'idempotencyKey must be 1 to 200 printable ASCII characters' })
  idempotencyKey?: string;

  /** POSTed the task (signed, see Taskq-Signature) once it is completed, dead or cancelled. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  @IsUrl(CALLBACK_URL_OPTIONS, { message: 'callbackUrl must be an absolute http(s) URL' })
  callbackUrl?: string;
}

export interface SubmitTaskResponse {
  id: string;
  type: string;
  status: string;
  createdAt: string;
}

