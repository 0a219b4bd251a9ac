import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsEmail, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { exponentialBackoff } from '../backoff-policy';
import { defineTaskType, resultShape } from '../task-type-definition';

/** Sends one message over SMTP. `to` accepts one address or a list. */
export class EmailPayload {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsEmail({}, { each: true })
  to!: string[];

  @IsString()
  @MaxLength(998)
  subject!: string;

  @ValidateIf((payload: EmailPayload) => payload.html === undefined)
  @IsString({ message: 'text must be a string (text or html is required)' })
  @MaxLength(1_000_000)
  text?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  html?: string;

  @IsOptional()
  @IsEmail()
  from?: string;

  @IsOptional()
  @IsEmail()
  replyTo?: string;
}

export interface EmailResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

export const emailTaskType = defineTaskType({
  description: 'Send an email over SMTP.',
  payload: EmailPayload,
  result: resultShape<EmailResult>(),
  defaults: { attempts: 5, backoff: exponentialBackoff(5_000, 10 * 60_000), timeoutMs: 30_000, concurrency: 10 },
  payloadSchema: {
    properties: {
      to: {
        description: 'One address, or a list of 1 to 50.',
        anyOf: [
          { type: 'string', format: 'email' },
          { type: 'array', items: { type: 'string', format: 'email' }, minItems: 1, maxItems: 50 },
        ],
      },
    },
    schema: { anyOf: [{ required: ['text'] }, { required: ['html'] }], description: 'One message; `text` or `html` (or both) is required.' },
  },
});
