import { IsOptional, IsString, MaxLength } from 'class-validator';
import { exponentialBackoff } from '../backoff-policy';
import { defineTaskType, resultShape } from '../task-type-definition';

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

export const noopTaskType = defineTaskType({
  description: 'Do nothing and succeed (demos, tests, benchmarks).',
  payload: NoopPayload,
  result: resultShape<NoopResult>(),
  defaults: { attempts: 3, backoff: exponentialBackoff(1_000, 60_000), timeoutMs: 10_000, concurrency: 50 },
});
