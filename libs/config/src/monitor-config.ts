import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, IsUrl, Max, Min, ValidateBy, ValidateIf } from 'class-validator';
import { cronExpressionProblem } from '@taskq/contracts';
import { CommonConfig, ListenHostDefault, toBoolean } from './common-config';
import { Env } from './load-config';

/** The rules of a schedule's cron (BullMQ runs both the same way). */
function IsCronPattern(): PropertyDecorator {
  const problem = (value: unknown): string | null => {
    const found = cronExpressionProblem(value);
    return found === null ? null : `must be a cron pattern such as "0 3 * * *" (${found})`;
  };
  return ValidateBy({
    name: 'isCronPattern',
    validator: {
      validate: (value: unknown) => problem(value) === null,
      defaultMessage: (args) => problem(args?.value) ?? 'must be a cron pattern',
    },
  });
}

export class MonitorConfig extends CommonConfig {
  /** Port of the monitor's health and metrics listener; 0 picks a free port, -1 disables it. */
  @Env('METRICS_PORT')
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  @Max(65_535)
  metricsPort = 9465;

  /** Interface of the health and metrics listener. Unset: every interface in production, 127.0.0.1 elsewhere. */
  @Env('METRICS_HOST')
  @ListenHostDefault(undefined)
  @IsOptional()
  @IsString()
  metricsHost?: string;

  /** On SIGTERM, how long running maintenance jobs and a last alert delivery may take. */
  @Env('SHUTDOWN_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  shutdownTimeoutMs = 30_000;

  /** Where dead tasks are POSTed as JSON batches; unset: dead tasks are only logged. */
  @Env('ALERT_WEBHOOK_URL')
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'must be an http:// or https:// URL' })
  alertWebhookUrl?: string;

  /** At most one alert request per this many milliseconds (retries included). */
  @Env('ALERT_INTERVAL_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(86_400_000)
  alertIntervalMs = 60_000;

  /** How long one alert request may take before it counts as failed. */
  @Env('ALERT_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300_000)
  alertTimeoutMs = 10_000;

  /** Dead tasks held for the next alert request; beyond it the oldest are dropped (and counted). */
  @Env('ALERT_BUFFER_SIZE')
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  alertBufferSize = 1_000;

  /** When the retention clean-up runs: a cron pattern (5 fields, or 6 with seconds), in UTC. */
  @Env('RETENTION_CRON')
  @IsCronPattern()
  retentionCron = '0 3 * * *';

  /** Finished tasks (and their attempts) older than this many days are deleted. */
  @Env('RETENTION_DAYS')
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(36_500)
  retentionDays = 30;

  /** Delete old dead tasks too; by default the dead-letter queue is kept until emptied by hand. */
  @Env('RETENTION_INCLUDE_DEAD')
  @Transform(toBoolean)
  @IsBoolean()
  retentionIncludeDead = false;

  /** Tasks deleted per statement: each batch is its own short transaction. */
  @Env('RETENTION_BATCH_SIZE')
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  retentionBatchSize = 1_000;
  /**
   * How often the monitor re-registers the recurring schedules from PostgreSQL in Redis, and
   * the retention scheduler if it is missing, so that a Redis restart heals without
   * restarting anything.
   */
  @Env('SCHEDULE_SYNC_INTERVAL_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  scheduleSyncIntervalMs = 60_000;

  /**
   * How often the reconciler re-queues the unfinished tasks whose jobs Redis lost (also once
   * at start-up); 0 turns it off.
   */
  @Env('RECONCILE_INTERVAL_MS')
  @Type(() => Number)
  @ValidateIf((config: MonitorConfig) => config.reconcileIntervalMs !== 0)
  @IsInt()
  @Min(100, { message: 'must be 0 (off) or at least 100' })
  @Max(86_400_000)
  reconcileIntervalMs = 60_000;

  /**
   * The reconciler leaves a task alone until it has not changed for this long (an active
   * task: this long after its attempt's deadline), so a submission between its INSERT and
   * its job, or a worker between two writes, is never taken for lost.
   */
  @Env('RECONCILE_GRACE_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  reconcileGraceMs = 30_000;

  /** How often the monitor looks for completion callbacks that are due. */
  @Env('CALLBACK_POLL_INTERVAL_MS')
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  callbackPollIntervalMs = 1_000;

  /** Callback deliveries one monitor makes at once. */
  @Env('CALLBACK_CONCURRENCY')
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000)
  callbackConcurrency = 20;

  /** The first retry's delay; each next one doubles (with jitter) up to an hour, for 24 h in all. */
  @Env('CALLBACK_RETRY_BASE_MS')
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  callbackRetryBaseMs = 10_000;

  /**
   * How long a monitor holds a delivery it is making: another monitor (or this one restarted)
   * takes it over only after this, so keep it above the 10 s request deadline.
   */
  @Env('CALLBACK_LEASE_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  callbackLeaseMs = 60_000;

  /** Tasks the reconciler reads from PostgreSQL and checks in Redis per round trip. */
  @Env('RECONCILE_BATCH_SIZE')
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  reconcileBatchSize = 1_000;
}
