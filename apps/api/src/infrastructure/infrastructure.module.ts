import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ApiConfig } from '@taskq/config';
import { TaskqMetrics } from '@taskq/observability';
import { DeadLetterSync } from './dead-letter-sync';
import { HttpShutdownDeadline } from './http-shutdown-deadline';

/**
 * The API's configuration and metrics registry, shared by every API module, and its HTTP
 * shutdown deadline. PostgreSQL and Redis come from PersistenceModule and QueueModule.
 */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: ApiConfig, metrics: TaskqMetrics): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [{ provide: ApiConfig, useValue: config }, { provide: TaskqMetrics, useValue: metrics }, DeadLetterSync, HttpShutdownDeadline],
      exports: [ApiConfig, TaskqMetrics],
    };
  }
}
