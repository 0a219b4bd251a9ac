import type { TaskTypeDeclaration } from '../task-type-definition';
import { emailTaskType } from './email.task-type';
import { noopTaskType } from './noop.task-type';
import { reportTaskType } from './report.task-type';
import { sleepTaskType } from './sleep.task-type';
import { webhookTaskType } from './webhook.task-type';

export * from './email.task-type';
export * from './webhook.task-type';
export * from './report.task-type';
export * from './noop.task-type';
export * from './sleep.task-type';

/**
 * The task-type registry: every type taskq runs, each declared in its own file. Keys are the
 * public type names clients submit; each type's queue is named after its key.
 * Adding a type: `<type>.task-type.ts` here (payload DTO, result shape, `defineTaskType`), its
 * export and entry below, and its handler in `apps/worker/src/handlers/<type>.handler.ts`.
 * WARNING: type names are stored in PostgreSQL (tasks.type) and in Redis (queue names).
 * Renaming one needs a migration and strands the jobs already queued.
 */
export const TASK_TYPES = {
  email: emailTaskType,
  webhook: webhookTaskType,
  report: reportTaskType,
  noop: noopTaskType,
  sleep: sleepTaskType,
} as const satisfies Record<string, TaskTypeDeclaration>;
