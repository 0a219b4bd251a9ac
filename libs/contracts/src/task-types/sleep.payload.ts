import { IsInt, Max, Min } from 'class-validator';

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
