import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength } from 'class-validator';
import { DerivedDefault, Env } from './load-config';

/** Where a listener binds outside production when its host variable is unset. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * The default of a listener's host variable (HOST, METRICS_HOST): in production
 * `productionHost` (every interface: containers are reached from outside), elsewhere only the
 * loopback, so `npm start` on a developer's machine is not open to the network.
 */
export function ListenHostDefault(productionHost: string | undefined): PropertyDecorator {
  return DerivedDefault((config: CommonConfig) => (config.nodeEnv === 'production' ? productionHost : LOOPBACK_HOST));
}

export const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/** Settings every taskq process shares. */
export class CommonConfig {
  @Env('NODE_ENV')
  @IsIn(['development', 'production', 'test'])
  nodeEnv: 'development' | 'production' | 'test' = 'development';

  @Env('REDIS_URL')
  @Matches(/^rediss?(-cluster)?:\/\//, { message: 'must be a redis:// or rediss:// URL, or redis-cluster://host1:port,host2:port for a Redis Cluster' })
  redisUrl = 'redis://127.0.0.1:6379';

  @Env('DATABASE_URL')
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  databaseUrl = 'postgres://postgres@127.0.0.1:5432/taskq';

  /** Key prefix of every BullMQ key: lets several deployments (or test files) share one Redis. */
  @Env('QUEUE_PREFIX')
  @IsString()
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'may contain only letters, digits, - and _' })
  queuePrefix = 'taskq';

  @Env('LOG_LEVEL')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' = 'info';

  /** `auto`: human-readable lines when stdout is a terminal and NODE_ENV is not production, else JSON lines. */
  @Env('LOG_FORMAT')
  @IsIn(['auto', 'json', 'pretty'])
  logFormat: 'auto' | 'json' | 'pretty' = 'auto';

  /** How long start-up waits for Redis and PostgreSQL to answer before giving up. */
  @Env('STARTUP_CHECK_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  startupCheckTimeoutMs = 5_000;

  /**
   * Lets outbound requests reach loopback and private addresses: webhooks (worker), completion
   * callbacks (submitted to the API, delivered by the monitor). For tests and trusted networks.
   */
  @Env('WEBHOOK_ALLOW_PRIVATE')
  @Transform(toBoolean)
  @IsBoolean()
  webhookAllowPrivate = false;

  /**
   * OpenTelemetry traces are exported over OTLP/HTTP when either endpoint is set (the standard
   * variables; the exporter reads them, and its other OTEL_EXPORTER_OTLP_* settings, itself).
   * Unset: no tracer provider is installed at all.
   */
  @Env('OTEL_EXPORTER_OTLP_ENDPOINT')
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'must be an http:// or https:// URL' })
  otlpEndpoint?: string;

  @Env('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'must be an http:// or https:// URL' })
  otlpTracesEndpoint?: string;

  /** Replaces the app's own service name (taskq-api, taskq-worker, taskq-monitor) on its spans. */
  @Env('OTEL_SERVICE_NAME')
  @IsOptional()
  @IsString()
  @MinLength(1)
  otelServiceName?: string;

  /** `true` turns tracing off even with an endpoint set (OpenTelemetry's standard switch). */
  @Env('OTEL_SDK_DISABLED')
  @Transform(toBoolean)
  @IsBoolean()
  otelSdkDisabled = false;
}

