import { Controller, Get, Inject, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { RedisConnection } from '@taskq/queue';
import { throttledLog } from '@taskq/observability';
import { PRODUCER_REDIS } from '@taskq/queue';
import { ProblemException, problemType } from '../errors/problem.exception';
import { NO_KEY, RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer, ApiProblems } from '../docs/api-docs.decorators';

const CHECK_TIMEOUT_MS = 2_000;

@Controller('health')
@RequiresScope(NO_KEY)
@ApiTags('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  /** Probes repeat every few seconds while a dependency is away: one line per reason a minute. */
  private readonly logNotReady = throttledLog((message) => this.logger.warn(message));

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
  ) {}

  /** Liveness: the process answers. Never touches Redis or PostgreSQL. */
  @Get()
  @ApiOperation({ summary: 'Liveness', description: 'The process answers. Never touches Redis or PostgreSQL.' })
  @ApiAnswer(200, 'Alive.', 'Liveness')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: 503 (a problem document listing each check) unless Redis and PostgreSQL both answer. */
  @Get('ready')
  // Documented below, as problem+json (terminus would document its own 503 body).
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness', description: 'Redis and PostgreSQL both answer (each checked with a 2 s deadline).' })
  @ApiAnswer(200, 'Ready.', 'Readiness')
  @ApiProblems({ 503: 'Not ready: `detail` names the unreachable dependencies, `checks` has each check.' })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.checkDependencies();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const details = (error.getResponse() as { details?: Record<string, { status: string; message?: unknown }> }).details ?? {};
      const down = Object.entries(details).filter(([, check]) => check.status !== 'up');
      for (const [name, check] of down) this.logNotReady(`not ready: ${name} is ${check.status}: ${String(check.message ?? 'no reason given')}`);
      throw new ProblemException({
        type: problemType('not-ready'),
        title: 'Not ready',
        status: 503,
        detail: `Unreachable: ${down.map(([name]) => name).join(', ') || 'unknown'}.`,
        // Only each check's status: the drivers' messages name hosts and databases, and this route needs no key.
        checks: Object.fromEntries(Object.entries(details).map(([name, check]) => [name, { status: check.status }])),
      });
    }
  }

  private checkDependencies(): Promise<HealthCheckResult> {
    return this.health.check([
      () =>
        this.indicators
          .check('postgres')
          .attempt(async () => {
            await this.dataSource.query('SELECT 1');
          })
          .withTimeout(CHECK_TIMEOUT_MS),
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await this.redis.ping();
          })
          .withTimeout(CHECK_TIMEOUT_MS),
    ]);
  }
}
