import type { ResultShape, TaskTypeDefinition } from './task-type-definition';
import { TASK_TYPES } from './task-types';

/** The registered type names (see TASK_TYPES in task-types/index.ts). */
export type TaskType = keyof typeof TASK_TYPES;
export type PayloadOf<T extends TaskType> = InstanceType<(typeof TASK_TYPES)[T]['payload']>;
export type ResultOf<T extends TaskType> = (typeof TASK_TYPES)[T]['result'] extends ResultShape<infer R> ? R : never;
/** Result shape of each type, as stored in tasks.result. */
export type TaskResults = { [T in TaskType]: ResultOf<T> };

const registry = new Map<string, TaskTypeDefinition>(
  Object.entries(TASK_TYPES).map(([name, { description, payload, defaults, payloadSchema }]): [string, TaskTypeDefinition] => [
    name,
    { description, payload, queue: name, ...defaults, ...(payloadSchema ? { payloadSchema } : {}) },
  ]),
);

export const TASK_TYPE_NAMES = [...registry.keys()] as TaskType[];

/** Safe lookup: `constructor` or `__proto__` are not task types. */
export function isTaskType(name: unknown): name is TaskType {
  return typeof name === 'string' && registry.has(name);
}

export function getTaskType(name: TaskType): TaskTypeDefinition {
  const definition = registry.get(name);
  if (!definition) throw new Error(`Unknown task type "${name}"`);
  return definition;
}
