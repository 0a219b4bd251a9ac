import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { TENANT_NAME_MESSAGE, TENANT_NAME_PATTERN } from './api-key.dto';

export const DEFAULT_STATS_WINDOW_MINUTES = 60;
export const MAX_STATS_WINDOW_MINUTES = 1_440;

/** Query of `GET /stats`. */
export class TaskStatsQuery {
  /** Minutes of history, the current minute last (default 60, at most 1440). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_STATS_WINDOW_MINUTES)
  windowMinutes?: number;

  /** Admin keys: only this tenant's figures (other keys may name only their own tenant). */
  @IsOptional()
  @IsString()
  @Matches(TENANT_NAME_PATTERN, { message: TENANT_NAME_MESSAGE })
  tenant?: string;
}

/** The BullMQ states a queue's depth is given in. */
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

/** Jobs in one task type's queue now, by state (Redis; one queue serves every tenant). */
export type QueueDepthView = Record<QueueDepthState, number>;

/** Counts of one kind of event: per minute of the window (oldest first), and in all. */
export interface EventSeries {
  perMinute: number[];
  total: number;
}

/** The figures of one registered task type. */
export interface TaskTypeStats {
  type: string;
  depth: QueueDepthView;
  /** Tasks that completed. */
  completed: EventSeries;
  /** Attempts that failed, timed out or were lost (each spends an attempt). */
  failedAttempts: EventSeries;
  /** Tasks that died (attempts spent, or a permanent error). */
  dead: EventSeries;
  /** Run time of the attempts that completed tasks in the window, ms; null when none did. */
  durationMs: { p50: number | null; p95: number | null };
}

/** `GET /stats`: the overview of every registered task type over a window of whole minutes. */
export interface TaskStatsView {
  /** Whose tasks the PostgreSQL figures count; null: every tenant's. */
  tenant: string | null;
  windowMinutes: number;
  /** Start of the window's first minute; `perMinute[i]` is the minute starting i minutes later. */
  from: string;
  /** End of the window: the end of the current minute. */
  to: string;
  types: TaskTypeStats[];
}
