import { IsInt, Max, Min } from 'class-validator';
import { exponentialBackoff } from '../backoff-policy';
import { defineTaskType, resultShape } from '../task-type-definition';

/** Waits `ms` milliseconds (stops early when the task is aborted). */
export class SleepPayload {
  @IsInt()
  @Min(0)
  @Max(300_000)
  ms!: number;
}

export interface SleepResult {
  sleptMs: number;
}

export const sleepTaskType = defineTaskType({
  description: 'Wait for `ms` milliseconds (demos, tests, shutdown drills).',
  payload: SleepPayload,
  result: resultShape<SleepResult>(),
  defaults: { attempts: 3, backoff: exponentialBackoff(1_000, 60_000), timeoutMs: 310_000, concurrency: 20 },
});
