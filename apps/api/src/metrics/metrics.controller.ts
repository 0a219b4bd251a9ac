import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyScope } from '@taskq/contracts';
import { TaskqMetrics } from '@taskq/observability';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer } from '../docs/api-docs.decorators';

/** Prometheus scrapes with a read-only key (`authorization: { credentials: <key> }`). */
@Controller('metrics')
@RequiresScope(ApiKeyScope.TasksRead)
@ApiTags('metrics')
export class MetricsController {
  constructor(private readonly metrics: TaskqMetrics) {}

  /** Prometheus text exposition. Answers even when Redis is down (queue depths are then left out). */
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics', description: 'Text exposition format. Answers even when Redis is down (queue depths are then left out).' })
  @ApiProduces('text/plain; version=0.0.4')
  @ApiAnswer(200, 'The metrics.', { type: 'string' })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const text = await this.metrics.text();
    void reply.header('content-type', this.metrics.contentType);
    return text;
  }
}
