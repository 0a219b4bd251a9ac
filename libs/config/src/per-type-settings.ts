import { TASK_TYPE_NAMES, isTaskType, type TaskType } from '@taskq/contracts';
import { StartupFailure } from './startup-failure';

/** Bounds a per-type value must keep; values outside them are refused, naming the entry. */
export interface PerTypeRange {
  min: number;
  max: number;
}

/**
 * Per-type `name=value` entries (e.g. WORKER_CONCURRENCY `email=5,webhook=50`) → a value for
 * every registered type: the named ones from `entries`, the others from `defaultOf`. The one
 * parser of such settings; an entry naming an unknown type or out of `range` is a
 * StartupFailure naming the variable, the entry and the valid types or bounds.
 */
export function perTypeSetting(
  variable: string,
  entries: readonly string[],
  defaultOf: (type: TaskType) => number,
  range?: PerTypeRange,
): ReadonlyMap<TaskType, number> {
  const values = new Map<TaskType, number>(TASK_TYPE_NAMES.map((type) => [type, defaultOf(type)]));
  for (const entry of entries) {
    const [type = '', text = ''] = entry.split('=');
    // isTaskType looks names up in a Map: `constructor` and `__proto__` are not types.
    if (!isTaskType(type)) {
      throw new StartupFailure(`${variable} names an unknown task type: ${type} (entry "${entry}"; known: ${TASK_TYPE_NAMES.join(', ')})`);
    }
    const value = Number(text);
    if (range && (text.trim() === '' || !Number.isInteger(value) || value < range.min || value > range.max)) {
      throw new StartupFailure(`${variable} for ${type} must be an integer from ${range.min} to ${range.max}`);
    }
    values.set(type, value);
  }
  return values;
}

/** `100000,email=5000` (MAX_BACKLOG) → the limit of every type (0 = none). */
export function parseBacklogLimits(value: string): ReadonlyMap<TaskType, number> {
  const [all = '0', ...overrides] = value.split(',');
  return perTypeSetting('MAX_BACKLOG', overrides, () => Number(all));
}
