import { IsInt, IsOptional, Max, Min } from 'class-validator';

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
