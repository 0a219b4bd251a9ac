import type { OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { MonitorConfig } from '@taskq/config';
import { QueueDepthCollector, type TaskqMetrics } from '@taskq/observability';
import { DeadLetterMirror, TaskProducer, connectRedis } from '@taskq/queue';

/**
 * Exports the depth of every task queue and of the dead-letter mirror, read at each scrape
 * over a connection of its own that fails fast (a Redis outage cannot hang /metrics).
 * Built by its async factory: the connection must be ready before the queues exist.
 */
export class MonitorQueueDepth implements OnApplicationShutdown {
  private constructor(
    private readonly connection: Redis,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
  ) {}

  static async start(metrics: TaskqMetrics, config: MonitorConfig): Promise<MonitorQueueDepth> {
    const connection = await connectRedis(config.redisUrl, 'producer', config.startupCheckTimeoutMs);
    const producer = new TaskProducer(connection, config.queuePrefix);
    const deadLetters = new DeadLetterMirror(connection, config.queuePrefix);
    new QueueDepthCollector(metrics, QueueDepthCollector.sourcesOf(producer, deadLetters));
    return new MonitorQueueDepth(connection, producer, deadLetters);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
    await this.deadLetters.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
