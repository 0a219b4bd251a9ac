import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { exponentialBackoff } from '../backoff-policy';
import { defineTaskType, resultShape } from '../task-type-definition';

/** Aggregates task history over the last `windowMinutes` (default one day). */
export class ReportPayload {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(366 * 24 * 60)
  windowMinutes?: number;
}

export interface ReportTypeStats {
  type: string;
  counts: Record<string, number>;
  total: number;
  /** Attempt durations of completed attempts, in ms; null when there were none. */
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export interface ReportResult {
  from: string;
  to: string;
  types: ReportTypeStats[];
}

export const reportTaskType = defineTaskType({
  description: 'Aggregate task history from PostgreSQL: counts per type and status, duration percentiles.',
  payload: ReportPayload,
  result: resultShape<ReportResult>(),
  defaults: { attempts: 3, backoff: exponentialBackoff(10_000, 5 * 60_000), timeoutMs: 120_000, concurrency: 2 },
});
