import { IsBoolean, IsDefined, IsObject, IsOptional, IsString, IsUrl, Matches, MaxLength, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';
import { SCHEDULE_NAME_PATTERN, cronExpressionProblem, isIanaTimeZone } from '../schedule-rules';
import { CALLBACK_URL_OPTIONS, MAX_CALLBACK_URL_LENGTH } from './submit-task.dto';

/** A cron expression BullMQ can run (see {@link cronExpressionProblem}). */
export function IsCronExpression(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCronExpression',
      validator: {
        validate: (value) => cronExpressionProblem(value) === null,
        defaultMessage: (args) => cronExpressionProblem(args?.value) ?? 'cron must be a cron expression',
      },
    },
    options,
  );
}

/** An IANA time zone name (see {@link isIanaTimeZone}). */
export function IsIanaTimeZone(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIanaTimeZone',
      validator: {
        validate: (value) => isIanaTimeZone(value),
        defaultMessage: (args) => `${args?.property ?? 'tz'} must be an IANA time zone such as Europe/Paris or UTC`,
      },
    },
    options,
  );
}

const NAME_MESSAGE = 'name must be 1 to 100 characters: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit';

/** Set, but not to null: PATCH fields that cannot be cleared. */
const present = (_: object, value: unknown): boolean => value !== undefined;

/**
 * Body of `POST /schedules`. `type` and `payload` are validated like a task submission:
 * the type must be registered and the payload must satisfy its DTO.
 */
export class CreateScheduleDto {
  @IsString()
  @Matches(SCHEDULE_NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  /** 5 fields, or 6 with seconds first; evaluated in `tz` (default UTC). */
  @IsCronExpression()
  cron!: string;

  /** IANA time zone the cron expression is read in; absent or null: UTC. */
  @IsOptional()
  @IsIanaTimeZone()
  tz?: string | null;

  @IsString()
  @MaxLength(100)
  type!: string;

  @IsDefined()
  @IsObject()
  payload!: Record<string, unknown>;

  /** Default true. A disabled schedule is kept but does not run. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** The completion callback of every task it creates (see `callbackUrl` on submissions). */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  @IsUrl(CALLBACK_URL_OPTIONS, { message: 'callbackUrl must be an absolute http(s) URL' })
  callbackUrl?: string;
}

/**
 * Body of `PATCH /schedules/:name`: any of the fields, the rest stays. The result is
 * validated as a whole: changing `type` needs a payload valid for the new type. `tz: null`
 * goes back to UTC.
 */
export class UpdateScheduleDto {
  @ValidateIf(present)
  @IsCronExpression()
  cron?: string;

  @IsOptional()
  @IsIanaTimeZone()
  tz?: string | null;

  @ValidateIf(present)
  @IsString()
  @MaxLength(100)
  type?: string;

  @ValidateIf(present)
  @IsObject()
  payload?: Record<string, unknown>;

  @ValidateIf(present)
  @IsBoolean()
  enabled?: boolean;

  /** null: no callback any more. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  @IsUrl(CALLBACK_URL_OPTIONS, { message: 'callbackUrl must be an absolute http(s) URL' })
  callbackUrl?: string | null;
}

/** A schedule as the API shows it. */
export interface ScheduleView {
  name: string;
  /** Owner of the tasks its runs create (the tenant of the key that created it). */
  tenant: string;
  cron: string;
  tz: string | null;
  type: string;
  payload: unknown;
  enabled: boolean;
  callbackUrl: string | null;
  createdAt: string;
  updatedAt: string;
  /** When it last created a task. */
  lastRunAt: string | null;
  /** When it runs next, from its BullMQ job scheduler; null while disabled. */
  nextRunAt: string | null;
}

/** `GET /schedules`: every schedule, sorted by name. */
export interface ScheduleList {
  items: ScheduleView[];
}
