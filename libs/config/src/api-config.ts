import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MinLength, Min, ValidateBy, type ValidationArguments } from 'class-validator';
import type { TaskType } from '@taskq/contracts';
import { CommonConfig, ListenHostDefault, toBoolean } from './common-config';
import { Env } from './load-config';
import { parseBacklogLimits } from './per-type-settings';

/**
 * A credential that comes in a pair (user and password): either both are set or neither.
 * `rule` checks a value that is set.
 */
function PairedWith(partner: string, partnerVariable: string, rule?: { test: (value: string) => boolean; message: string }): PropertyDecorator {
  return ValidateBy({
    name: 'pairedWith',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const partnerValue = (args?.object as Record<string, unknown> | undefined)?.[partner];
        if (value === undefined) return partnerValue === undefined;
        return typeof value === 'string' && (rule?.test(value) ?? true);
      },
      defaultMessage: (args?: ValidationArguments) => (args?.value === undefined ? `is required when ${partnerVariable} is set` : (rule?.message ?? 'must be a string')),
    },
  });
}

/** HTTP basic auth splits user and password at the first colon. */
const NO_COLON = { test: (user: string) => !user.includes(':'), message: 'must not contain a colon' };

export class ApiConfig extends CommonConfig {
  @Env('PORT')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65_535)
  port = 3000;

  /** Unset: 0.0.0.0 in production, 127.0.0.1 elsewhere. */
  @Env('HOST')
  @ListenHostDefault('0.0.0.0')
  @IsString()
  host!: string;

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

  /**
   * Most jobs a task type's queue may hold waiting (waiting, prioritised, delayed) before
   * submissions of that type get 503: a number for every type, then per-type overrides,
   * e.g. `100000,email=5000`. 0 means no limit.
   */
  @Env('MAX_BACKLOG')
  @Matches(/^\d+(,[a-z0-9_-]+=\d+)*$/i, { message: 'must look like 100000 or 100000,email=5000' })
  maxBacklog = '100000';

  #backlogLimits?: ReadonlyMap<TaskType, number>;

  /** MAX_BACKLOG of every task type (0: no limit). */
  get backlogLimits(): ReadonlyMap<TaskType, number> {
    this.#backlogLimits ??= parseBacklogLimits(this.maxBacklog);
    return this.#backlogLimits;
  }

  /**
   * A bootstrap admin key (tenant `default`), e.g. for `docker compose up`; more keys come
   * from `npm run keys` or `POST /keys`. In production the API refuses to start without any key.
   */
  @Env('API_KEY')
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters (e.g. openssl rand -base64 32)' })
  apiKey?: string;

  /** Requests one API key may make per RATE_LIMIT_WINDOW_MS, across every API replica; 0: no limit. */
  @Env('RATE_LIMIT_REQUESTS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  rateLimitRequests = 6_000;

  @Env('RATE_LIMIT_WINDOW_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(86_400_000)
  rateLimitWindowMs = 60_000;

  /**
   * Most requests of a key one API replica claims from Redis at once and then counts locally
   * (0: a hundredth of RATE_LIMIT_REQUESTS, from 1 to 1,000). Replicas never admit more than
   * the limit together; a key may be refused up to (replicas − 1) × this many requests early.
   */
  @Env('RATE_LIMIT_CLAIM_SIZE')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  rateLimitClaimSize = 0;

  /** How long a console sign-in lasts (its session cookie and the session row). */
  @Env('CONSOLE_SESSION_TTL_MS')
  @Type(() => Number)
  @IsInt()
  @Min(60_000)
  @Max(30 * 24 * 3_600_000)
  consoleSessionTtlMs = 8 * 3_600_000;

  /** Where the console's build is (served at /console), relative to the working directory. */
  @Env('CONSOLE_DIR')
  @IsString()
  consoleDir = 'dist/apps/console';

  /** Marks the console's session cookie `Secure`: set it when browsers reach the API over HTTPS. */
  @Env('CONSOLE_COOKIE_SECURE')
  @Transform(toBoolean)
  @IsBoolean()
  consoleCookieSecure = false;

  /** Live event streams (`GET /events`, `GET /tasks/:id/events`) one API key may hold open on one replica. */
  @Env('SSE_MAX_STREAMS_PER_KEY')
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  sseMaxStreamsPerKey = 10;

  /** How often an idle event stream sends a heartbeat comment (keeps proxies from closing it). */
  @Env('SSE_HEARTBEAT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300_000)
  sseHeartbeatMs = 15_000;

  /**
   * How often open event streams check PostgreSQL for terminal states they were not told of
   * (an announcement lost with a process that crashed right after its commit).
   */
  @Env('SSE_CATCH_UP_INTERVAL_MS')
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300_000)
  sseCatchUpIntervalMs = 5_000;

  /** On SIGTERM, how long in-flight requests may finish before their connections are closed. */
  @Env('SHUTDOWN_TIMEOUT_MS')
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  shutdownTimeoutMs = 10_000;
  // Bull Board accounts (passwords also from BOARD_*_PASSWORD_FILE). Without any account
  // the board still answers, with 401 to everything.

  /** Full control of the queues in Bull Board. */
  @Env('BOARD_ADMIN_USER')
  @PairedWith('boardAdminPassword', 'BOARD_ADMIN_PASSWORD', NO_COLON)
  boardAdminUser?: string;

  @Env('BOARD_ADMIN_PASSWORD')
  @PairedWith('boardAdminUser', 'BOARD_ADMIN_USER')
  boardAdminPassword?: string;

  /** Read-only view of the queues in Bull Board. */
  @Env('BOARD_VIEWER_USER')
  @PairedWith('boardViewerPassword', 'BOARD_VIEWER_PASSWORD', NO_COLON)
  boardViewerUser?: string;

  @Env('BOARD_VIEWER_PASSWORD')
  @PairedWith('boardViewerUser', 'BOARD_VIEWER_USER')
  boardViewerPassword?: string;
}
