import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { CommonConfig } from './common-config';
import { Env } from './load-config';

export class ApiConfig extends CommonConfig {
  @Env('PORT')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65_535)
  port = 3000;

  @Env('HOST')
  @IsString()
  host = '0.0.0.0';

  /** On SIGTERM, how long in-flight requests may finish before their connections are closed. */
  @Env('SHUTDOWN_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  shutdownTimeoutMs = 10_000;
}
