import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TaskqMetrics } from '@taskq/observability';

@Controller('metrics')
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
