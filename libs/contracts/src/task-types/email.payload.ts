import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsEmail, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

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
