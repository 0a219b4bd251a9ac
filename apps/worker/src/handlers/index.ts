import type { Type } from '@nestjs/common';
import { TASK_TYPE_NAMES, type TaskType } from '@taskq/contracts';
import { TASK_HANDLER_METADATA, type TaskHandler } from './task-handler';

/**
 * The `@HandlesTask` classes a handler file exports. Each type's handler lives in
 * `<type>.handler.ts` beside this file, so a new type needs no list here; a missing file means
 * no handler, which HandlerRegistry refuses at start-up.
 */
function handlersIn(type: TaskType): Array<Type<TaskHandler<TaskType>>> {
  let path: string;
  try {
    path = require.resolve(`./${type}.handler`);
  } catch {
    return [];
  }
  // A synchronous require: the handlers are Nest providers, listed before the app starts.
  const exported = require(path) as Record<string, unknown>;
  return Object.values(exported).filter(
    (value): value is Type<TaskHandler<TaskType>> => typeof value === 'function' && Reflect.getMetadata(TASK_HANDLER_METADATA, value) !== undefined,
  );
}

/** Every handler the worker ships, one file per registered type. Start-up fails unless each type has exactly one. */
export const TASK_HANDLERS = TASK_TYPE_NAMES.flatMap(handlersIn);
