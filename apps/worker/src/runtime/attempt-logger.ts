import type { Level, Logger as Pino } from 'pino';
import type { TaskLogger } from '../handlers/task-handler';

/** What every line about one attempt carries. */
export interface AttemptBindings {
  taskId: string;
  type: string;
  attempt: number;
}

/**
 * A handler's logger: its lines carry the attempt's task id, type and number. The pino child
 * is made on the first line written at an enabled level, so an attempt that logs nothing
 * (at LOG_LEVEL=warn, nearly all) costs nothing, and no async context has to follow it.
 */
export function attemptLogger(root: () => Pino, bindings: AttemptBindings): TaskLogger {
  let child: Pino | undefined;
  const write = (level: Level, message: string): void => {
    const pino = root();
    if (!pino.isLevelEnabled(level)) return;
    child ??= pino.child({ context: `task:${bindings.type}`, ...bindings });
    child[level](message);
  };
  return {
    log: (message) => write('info', message),
    warn: (message) => write('warn', message),
    error: (message) => write('error', message),
    debug: (message) => write('debug', message),
  };
}
