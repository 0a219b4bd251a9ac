import type { CommonConfig } from './common-config';

/** Nest's logger levels that LOG_LEVEL enables (Nest calls "info" "log"). */
export function nestLogLevels(level: CommonConfig['logLevel']): Array<'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const index = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[level];
  return order.slice(0, index + 1);
}
