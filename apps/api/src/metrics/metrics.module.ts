import { Module } from '@nestjs/common';
import { TaskqMetrics } from '@taskq/observability';
import { DeadLetterMirror, QueueDepthCollector, TaskProducer } from '@taskq/queue';
import { MetricsController } from './metrics.controller';

/** `GET /metrics`, with the depth of every task queue and of the dead-letter mirror. */
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: QueueDepthCollector,
      useFactory: (metrics: TaskqMetrics, producer: TaskProducer, deadLetters: DeadLetterMirror) =>
        new QueueDepthCollector(metrics, QueueDepthCollector.sourcesOf(producer, deadLetters)),
      inject: [TaskqMetrics, TaskProducer, DeadLetterMirror],
    },
  ],
})
export class MetricsModule {}
