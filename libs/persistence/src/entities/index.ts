import { ApiKeyEntity } from './api-key.entity';
import { ScheduleEntity } from './schedule.entity';
import { TaskAttemptEntity } from './task-attempt.entity';
import { TaskEntity } from './task.entity';

export { ApiKeyEntity, ScheduleEntity, TaskAttemptEntity, TaskEntity };

/** Explicit list: globs break once the apps are bundled. */
export const ENTITIES = [TaskEntity, TaskAttemptEntity, ScheduleEntity, ApiKeyEntity];
