import { Inject, Injectable, Module, Optional, type DynamicModule } from '@nestjs/common';
import type { RedisConnection } from './redis-connection';
import { DeadLetterMirror } from './dead-letter-queue';
import { connectRedis, createRedisConnection } from './redis-connection';
import { TaskEventSink } from '@taskq/contracts';
import { ScheduleQueue } from './schedule-queue';
import { TaskEventPublisher } from './task-event-channel';
import { TaskProducer } from './task-producer';

/**
 * Injection token of an app's producer-side Redis connection (fails fast, no offline queue),
 * shared by the task producer, the dead-letter mirror, the schedule queue and whatever else
 * of the app sends single commands. Workers and event readers have their own connections.
 */
export const PRODUCER_REDIS = Symbol('PRODUCER_REDIS');

/** The worker's one connection for single commands (the dead-letter mirror, task events); BullMQ's workers have their own. */
const WORKER_REDIS = Symbol('WORKER_REDIS');

export interface QueueModuleOptions {
  redisUrl: string;
  queuePrefix: string;
  /** How long start-up waits for Redis to answer. */
  startupCheckTimeoutMs: number;
}

/**
 * The end of this app's Redis side; called by the app's one ordered shutdown
 * (`ResourcesShutdown` in @taskq/tasks), after the pending writes are flushed.
 */
@Injectable()
export class QueueResources {
  constructor(
    private readonly deadLetters: DeadLetterMirror,
    @Optional() private readonly producer?: TaskProducer,
    @Optional() @Inject(PRODUCER_REDIS) private readonly redis?: RedisConnection,
  ) {}

  async close(): Promise<void> {
    await this.producer?.close();
    await this.deadLetters.close();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}

/** Redis for every module of an app. The schedule queue is closed by the app's schedule sync, which stops first. */
@Module({})
export class QueueModule {
  /** The producer side (API, monitor): one connection, checked at start-up, for every queue it sends to. */
  static forRoot({ redisUrl, queuePrefix, startupCheckTimeoutMs }: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      providers: [
        // Fails fast without an offline queue, so it must be connected before its first command.
        { provide: PRODUCER_REDIS, useFactory: () => connectRedis(redisUrl, 'producer', startupCheckTimeoutMs) },
        { provide: TaskProducer, useFactory: (redis: RedisConnection) => new TaskProducer(redis, queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: DeadLetterMirror, useFactory: (redis: RedisConnection) => new DeadLetterMirror(redis, queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: ScheduleQueue, useFactory: (redis: RedisConnection) => new ScheduleQueue(redis, queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: TaskEventSink, useFactory: (redis: RedisConnection) => new TaskEventPublisher(redis, queuePrefix), inject: [PRODUCER_REDIS] },
        QueueResources,
      ],
      exports: [PRODUCER_REDIS, TaskProducer, DeadLetterMirror, ScheduleQueue, TaskEventSink, QueueResources],
    };
  }

  /** The worker's side: the dead-letter mirror and task events, on a connection of its own (workers have no producer). */
  static forWorker({ redisUrl, queuePrefix }: Omit<QueueModuleOptions, 'startupCheckTimeoutMs'>): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      providers: [
        { provide: WORKER_REDIS, useFactory: () => createRedisConnection(redisUrl, 'worker') },
        // The mirror closes the connection: QueueResources closes it last.
        { provide: DeadLetterMirror, useFactory: (redis: RedisConnection) => new DeadLetterMirror(redis, queuePrefix, true), inject: [WORKER_REDIS] },
        { provide: TaskEventSink, useFactory: (redis: RedisConnection) => new TaskEventPublisher(redis, queuePrefix), inject: [WORKER_REDIS] },
        QueueResources,
      ],
      exports: [DeadLetterMirror, TaskEventSink, QueueResources],
    };
  }
}
