import { Allow, IsIn, IsInt, IsObject, IsOptional, IsUrl, Max, Min, ValidateBy, ValidationOptions, buildMessage } from 'class-validator';
import { exponentialBackoff } from '../backoff-policy';
import { defineTaskType, resultShape } from '../task-type-definition';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];

function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.values(value).every((v) => typeof v === 'string'),
        defaultMessage: buildMessage((prefix) => `${prefix}$property must be an object of string values`, options),
      },
    },
    options,
  );
}

/** One HTTP request. 2xx completes, 5xx and time-outs retry, other 4xx fail permanently. */
export class WebhookPayload {
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  url!: string;

  @IsOptional()
  @IsIn(WEBHOOK_METHODS)
  method?: WebhookMethod;

  @IsOptional()
  @IsObject()
  @IsStringRecord()
  headers?: Record<string, string>;

  /** Any JSON value; sent as the JSON request body (ignored for GET). */
  @Allow()
  body?: unknown;

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(120_000)
  timeoutMs?: number;
}

export interface WebhookResult {
  status: number;
  /** The first 2 KiB of the response body. */
  bodyExcerpt: string;
  durationMs: number;
}

export const webhookTaskType = defineTaskType({
  description: 'Make an HTTP request; 2xx completes, 5xx and time-outs retry, 4xx fails permanently.',
  payload: WebhookPayload,
  result: resultShape<WebhookResult>(),
  defaults: { attempts: 8, backoff: exponentialBackoff(2_000, 15 * 60_000), timeoutMs: 130_000, concurrency: 20 },
});
