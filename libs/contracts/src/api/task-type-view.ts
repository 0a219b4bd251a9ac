import type { TaskTypeDefaults } from '../task-type-definition';

/** One entry of `GET /task-types`. */
export interface TaskTypeView {
  type: string;
  description: string;
  queue: string;
  payloadSchema: Record<string, unknown>;
  defaults: TaskTypeDefaults;
}
