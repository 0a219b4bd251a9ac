import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyScope } from '@taskq/contracts';
import { TaskqMetrics } from '@taskq/observability';
import { RequiresScope } from '../auth/requires-scope.decorator';

/** Prometheus scrapes with a read-only key (`authorization: { credentials: <key> }`). */
@Controller('metrics')
@RequiresScope(ApiKeyScope.TasksRead)
export class MetricsController {
  constructor(private readonly metrics: TaskqMetrics) {}

  /** Prometheus text exposition. Answers even when Redis is down (queue depths are then left out). */
  @Get()
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const text = await this.metrics.text();
    void reply.header('content-type', this.metrics.contentType);
    return text;
  }
}
