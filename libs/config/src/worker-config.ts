import { hostname } from 'node:os';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { getTaskType, type TaskType } from '@taskq/contracts';
import { CommonConfig, ListenHostDefault } from './common-config';
import { Env } from './load-config';
import { perTypeSetting } from './per-type-settings';

export class WorkerConfig extends CommonConfig {
  /** Comma list of task types this process serves; `*` (the default) serves all. */
  @Env('WORKER_QUEUES')
  @Matches(/^(\*|[a-z0-9_-]+(,[a-z0-9_-]+)*)$/i, { message: 'must be * or a comma list of task types' })
  workerQueues = '*';

  /** Per-type concurrency overrides, e.g. `email=5,webhook=50`. */
  @Env('WORKER_CONCURRENCY')
  @Matches(/^([a-z0-9_-]+=\d+(,[a-z0-9_-]+=\d+)*)?$/i, { message: 'must look like email=5,webhook=50' })
  workerConcurrency = '';

  #concurrencyByType?: ReadonlyMap<TaskType, number>;

  /** How many jobs of each type a worker runs at once: WORKER_CONCURRENCY, else the registry's. */
  get concurrencyByType(): ReadonlyMap<TaskType, number> {
    this.#concurrencyByType ??= perTypeSetting(
      'WORKER_CONCURRENCY',
      this.workerConcurrency.split(',').filter(Boolean),
      (type) => getTaskType(type).concurrency,
      { min: 1, max: 10_000 },
    );
    return this.#concurrencyByType;
  }

  /** Recorded on every attempt; defaults to host name and process id. */
  @Env('WORKER_ID')
  @IsString()
  @MinLength(1)
  workerId = `${hostname()}-${process.pid}`;

  @Env('SMTP_URL')
  @Matches(/^smtps?:\/\//, { message: 'must be an smtp:// or smtps:// URL' })
  smtpUrl = 'smtp://127.0.0.1:1025';

  @Env('SMTP_FROM')
  @IsString()
  smtpFrom = 'taskq <taskq@localhost>';

  /** How long a worker waits at start-up for the API to have migrated the schema. */
  @Env('SCHEMA_WAIT_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  schemaWaitTimeoutMs = 60_000;

  @Env('SHUTDOWN_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  shutdownTimeoutMs = 30_000;

  /**
   * How long a worker's lock on a running job lasts without renewal (renewed every half of it).
   * A worker that dies without shutting down holds its jobs this long before another takes them.
   */
  @Env('WORKER_LOCK_DURATION_MS')
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  lockDurationMs = 30_000;

  /** Port of the worker's health listener; 0 picks a free port, -1 disables it. */
  @Env('METRICS_PORT')
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  @Max(65_535)
  metricsPort = 9464;

  /** Interface of the health and metrics listener. Unset: every interface in production, 127.0.0.1 elsewhere. */
  @Env('METRICS_HOST')
  @ListenHostDefault(undefined)
  @IsOptional()
  @IsString()
  metricsHost?: string;
}
