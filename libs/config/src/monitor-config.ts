import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { CommonConfig } from './common-config';
import { Env } from './load-config';

export class MonitorConfig extends CommonConfig {
  /** Port of the monitor's health and metrics listener; 0 picks a free port, -1 disables it. */
  @Env('METRICS_PORT')
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  @Max(65_535)
  metricsPort = 9465;

  /** On SIGTERM, how long running maintenance jobs may finish. */
  @Env('SHUTDOWN_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  shutdownTimeoutMs = 30_000;

  /**
   * How often the monitor re-registers the recurring schedules from PostgreSQL in Redis, so
   * that a Redis restart heals without restarting anything.
   */
  @Env('SCHEDULE_SYNC_INTERVAL_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  scheduleSyncIntervalMs = 60_000;
}
