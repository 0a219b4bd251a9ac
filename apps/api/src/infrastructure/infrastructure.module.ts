import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ApiConfig } from '@taskq/config';
import { TaskqMetrics } from '@taskq/observability';
import { TaskAdmissions, TaskLifecycleStore, TaskQueries } from '@taskq/persistence';
import { DeadLetterMirror, TaskProducer, connectRedis } from '@taskq/queue';
import { TaskAdmission, TaskRequeue } from '@taskq/tasks';
import { DeadLetterSync } from './dead-letter-sync';
import { HttpShutdownDeadline } from './http-shutdown-deadline';
import { PRODUCER_REDIS } from './tokens';

@Injectable()
class InfrastructureShutdown implements OnApplicationShutdown {
  constructor(
    private readonly store: TaskAdmissions,
    private readonly producer: TaskProducer,
    private readonly deadLetters: DeadLetterMirror,
    @Inject(PRODUCER_REDIS) private readonly redis: Redis,
    private readonly dataSource: DataSource,
  ) {}

  /** Runs after the HTTP server has closed: no request can write any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.flush();
    await this.producer.close();
    await this.deadLetters.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
    await this.dataSource.destroy();
  }
}

/**
 * PostgreSQL (already opened and migrated by the bootstrap, closed here after the last
 * write is flushed) and the Redis producer side, shared by every API module.
 */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: ApiConfig, dataSource: DataSource): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: ApiConfig, useValue: config },
        { provide: DataSource, useValue: dataSource },
        // The producer fails fast without an offline queue, so it must be connected before the first request.
        { provide: PRODUCER_REDIS, useFactory: () => connectRedis(config.redisUrl, 'producer', config.startupCheckTimeoutMs) },
        // One registry per app instance (tests run several apps in one process).
        { provide: TaskqMetrics, useFactory: () => new TaskqMetrics('api') },
        {
          provide: TaskAdmissions,
          useFactory: (ds: DataSource, metrics: TaskqMetrics) => new TaskAdmissions(ds, { onBatch: metrics.observeWriteBatch }),
          inject: [DataSource, TaskqMetrics],
        },
        { provide: TaskLifecycleStore, useFactory: (ds: DataSource) => new TaskLifecycleStore(ds), inject: [DataSource] },
        { provide: TaskQueries, useFactory: (ds: DataSource) => new TaskQueries(ds), inject: [DataSource] },
        { provide: TaskProducer, useFactory: (redis: Redis) => new TaskProducer(redis, config.queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: DeadLetterMirror, useFactory: (redis: Redis) => new DeadLetterMirror(redis, config.queuePrefix), inject: [PRODUCER_REDIS] },
        { provide: TaskAdmission, useFactory: (admissions: TaskAdmissions, producer: TaskProducer) => new TaskAdmission(admissions, producer), inject: [TaskAdmissions, TaskProducer] },
        {
          provide: TaskRequeue,
          useFactory: (lifecycle: TaskLifecycleStore, producer: TaskProducer, deadLetters: DeadLetterMirror) => new TaskRequeue(lifecycle, producer, deadLetters),
          inject: [TaskLifecycleStore, TaskProducer, DeadLetterMirror],
        },
        DeadLetterSync,
        HttpShutdownDeadline,
        InfrastructureShutdown,
      ],
      exports: [ApiConfig, DataSource, PRODUCER_REDIS, TaskAdmissions, TaskLifecycleStore, TaskQueries, TaskProducer, DeadLetterMirror, TaskAdmission, TaskRequeue, TaskqMetrics],
    };
  }
}
