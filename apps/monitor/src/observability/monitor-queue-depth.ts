import { Injectable } from '@nestjs/common';
import { TaskqMetrics } from '@taskq/observability';
import { DeadLetterMirror, QueueDepthCollector, TaskProducer } from '@taskq/queue';

/**
 * Exports the depth of every task queue and of the dead-letter mirror, read at each scrape
 * through the monitor's producer and mirror, whose connection fails fast (a Redis outage
 * cannot hang /metrics). Both are the monitor's, closed after the listener.
 */
@Injectable()
export class MonitorQueueDepth {
  constructor(metrics: TaskqMetrics, producer: TaskProducer, deadLetters: DeadLetterMirror) {
    new QueueDepthCollector(metrics, QueueDepthCollector.sourcesOf(producer, deadLetters));
  }
}
