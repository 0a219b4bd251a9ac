import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Does nothing and succeeds: for demos, tests and benchmarks. */
export class NoopPayload {
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export interface NoopResult {
  ok: true;
  note?: string;
}
