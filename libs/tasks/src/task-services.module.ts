import { Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TaskEventSink } from '@taskq/contracts';
import { flushTracing } from '@taskq/observability';
import { PersistenceResources, TaskAdmissions, TaskLifecycleStore } from '@taskq/persistence';
import { DeadLetterMirror, QueueResources, TaskProducer } from '@taskq/queue';
import { TaskAdmission } from './task-admission';
import { TaskRequeue } from './task-requeue';

/**
 * The one ordered end of an app's resources, in one hook: PersistenceModule and QueueModule
 * each end only when told, since Nest orders hooks of one phase only by module distance.
 * It runs in onApplicationShutdown, after the HTTP server has closed, and in a global module:
 * Nest runs global modules' hooks after the others', and the globals an app imports after
 * this one before it (the apps import it before their own global modules). So nothing writes
 * any more. Pending writes go first (an admission then still sends its jobs), then the
 * producer queues and Redis, then PostgreSQL, then the spans still buffered (OpenTelemetry).
 */
@Injectable()
export class ResourcesShutdown implements OnApplicationShutdown {
  constructor(
    private readonly persistence: PersistenceResources,
    private readonly queue: QueueResources,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.persistence.flush();
    await this.queue.close();
    await this.persistence.destroy();
    // Last: every span has ended (the producer's sends with its close); the process exits next.
    await flushTracing();
  }
}

/**
 * Ties PersistenceModule and QueueModule together (only this lib may combine them): the task
 * lifecycle services and the ordered shutdown. Import it beside both.
 */
@Module({})
export class TaskServicesModule {
  /** The API and the monitor: admission and requeue, and the ordered shutdown. */
  static forRoot(): DynamicModule {
    return {
      module: TaskServicesModule,
      global: true,
      providers: [
        {
          provide: TaskAdmission,
          useFactory: (admissions: TaskAdmissions, producer: TaskProducer, events: TaskEventSink) => new TaskAdmission(admissions, producer, events),
          inject: [TaskAdmissions, TaskProducer, TaskEventSink],
        },
        {
          provide: TaskRequeue,
          useFactory: (lifecycle: TaskLifecycleStore, producer: TaskProducer, deadLetters: DeadLetterMirror, events: TaskEventSink) =>
            new TaskRequeue(lifecycle, producer, deadLetters, events),
          inject: [TaskLifecycleStore, TaskProducer, DeadLetterMirror, TaskEventSink],
        },
        ResourcesShutdown,
      ],
      exports: [TaskAdmission, TaskRequeue],
    };
  }

  /** The worker: only the ordered shutdown (it admits and requeues nothing). */
  static shutdownOnly(): DynamicModule {
    return { module: TaskServicesModule, global: true, providers: [ResourcesShutdown] };
  }
}
