import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { Env } from './load-config';

export const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/** Settings every taskq process shares. */
export class CommonConfig {
  @Env('NODE_ENV')
  @IsIn(['development', 'production', 'test'])
  nodeEnv: 'development' | 'production' | 'test' = 'development';

  @Env('REDIS_URL')
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
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
}

