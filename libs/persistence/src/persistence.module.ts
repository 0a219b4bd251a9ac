import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TaskEventSink } from '@taskq/contracts';
import { ApiKeyStore } from './api-key-store';
import { AttemptLog } from './attempt-log';
import { CallbackStore } from './callback-store';
import { ConsoleSessionStore } from './console-session-store';
import { DeadLetterGroups } from './dead-letter-groups';
import { ProgressLog } from './progress-log';
import { ScheduleStore } from './schedule-store';
import { TaskAdmissions } from './task-admissions';
import { TaskLifecycleStore } from './task-lifecycle-store';
import { TaskEventHistory } from './task-event-history';
import { TaskMaintenance } from './task-maintenance';
import { TaskQueries } from './task-queries';

export interface PersistenceModuleOptions {
  /** Opened (and migrated or checked) by the app's bootstrap, with its start-up checks. */
  dataSource: DataSource;
  /** Hears the size of every batch the batched writers send (the app's metrics). */
  onWriteBatch?: (kind: 'insert' | 'start' | 'finish', size: number) => void;
}

/**
 * The end of this app's PostgreSQL side, in two steps, so that the app's one ordered shutdown
 * (`ResourcesShutdown` in @taskq/tasks) can close the queue side between them.
 */
@Injectable()
export class PersistenceResources {
  constructor(
    private readonly dataSource: DataSource,
    private readonly admissions: TaskAdmissions,
    private readonly attempts: AttemptLog,
    private readonly progress: ProgressLog,
  ) {}

  /** Writes what the batched writers still hold. */
  async flush(): Promise<void> {
    await this.admissions.flush();
    await this.progress.flush();
    await this.attempts.flush();
  }

  async destroy(): Promise<void> {
    await this.dataSource.destroy();
  }
}

const OPTIONAL_EVENTS = { token: TaskEventSink, optional: true } as const;

const STORES = [TaskLifecycleStore, TaskMaintenance, TaskQueries, TaskEventHistory, CallbackStore, ScheduleStore, ApiKeyStore, ConsoleSessionStore, DeadLetterGroups] as const;

/** PostgreSQL for every module of an app: the DataSource, the stores and the queries. */
@Module({})
export class PersistenceModule {
  static forRoot({ dataSource, onWriteBatch }: PersistenceModuleOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: TaskAdmissions, useFactory: () => new TaskAdmissions(dataSource, { onBatch: onWriteBatch }) },
        // The app's QueueModule provides the sink (Redis pub/sub); committed changes are announced there.
        { provide: AttemptLog, useFactory: (events?: TaskEventSink) => new AttemptLog(dataSource, { onBatch: onWriteBatch, events }), inject: [OPTIONAL_EVENTS] },
        { provide: ProgressLog, useFactory: (events?: TaskEventSink) => new ProgressLog(dataSource, events), inject: [OPTIONAL_EVENTS] },
        ...STORES.map((store) => ({ provide: store, useFactory: () => new store(dataSource) })),
        PersistenceResources,
      ],
      exports: [DataSource, TaskAdmissions, AttemptLog, ProgressLog, ...STORES, PersistenceResources],
    };
  }
}
