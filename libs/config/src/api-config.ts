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

  /** Largest request body accepted (bytes); larger ones get 413. */
  @Env('BODY_LIMIT_BYTES')
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  @Max(100 * 1_048_576)
  bodyLimitBytes = 256 * 1_024;

  /** Largest body of `POST /tasks/bulk` (bytes): up to 1,000 tasks travel in one body. */
  @Env('BULK_BODY_LIMIT_BYTES')
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  @Max(500 * 1_048_576)
  bulkBodyLimitBytes = 5 * 1_048_576;

  /** Deepest nesting of objects and arrays a JSON body may have. */
  @Env('JSON_MAX_DEPTH')
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(1_000)
  jsonMaxDepth = 32;

  /** On SIGTERM, how long in-flight requests may finish before their connections are closed. */
  @Env('SHUTDOWN_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  shutdownTimeoutMs = 10_000;
}
