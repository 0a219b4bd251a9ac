import { Logger as NestLogger, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { Logger as PinoNestLogger, LoggerModule, PinoLogger } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import type { CommonConfig } from '@taskq/config';
import { loggerParams } from './logger-params';
import type { TaskqApp } from './taskq-metrics';

type LoggingConfig = Pick<CommonConfig, 'logLevel' | 'logFormat' | 'nodeEnv'>;

/**
 * Routes Nest's static `Logger` (every `new Logger('X')`) to pino before the Nest app
 * exists, so start-up lines are JSON too and LOG_LEVEL applies to them.
 * nestjs-pino keeps one root pino logger per process: the first app to start in a process
 * sets its options (tests that start several apps in one process share it).
 */
export function startAppLogging(app: TaskqApp, config: LoggingConfig): void {
  const params = loggerParams(app, config);
  NestLogger.overrideLogger(new PinoNestLogger(new PinoLogger(params), params));
}

/** The nestjs-pino module of an app: Nest's LoggerService and PinoLogger (no request middleware: see loggerParams). */
export function appLoggerModule(app: TaskqApp, config: LoggingConfig): DynamicModule {
  return LoggerModule.forRoot(loggerParams(app, config));
}

/** Hands Nest's logging to nestjs-pino once the app exists (replays the buffered lines). */
export function useAppLogger(app: INestApplicationContext): void {
  app.useLogger(app.get(PinoNestLogger));
}

/** The process's root pino logger (the one every Nest `Logger` writes through), once logging has started. */
export function rootAppLogger(): Pino {
  const root = PinoLogger.root as Pino | undefined;
  if (!root) throw new Error('logging has not started: call startAppLogging first');
  return root;
}

/** Whether the process's logs include `level` (true before logging has started, to be safe). */
export function appLogLevelEnabled(level: 'trace' | 'debug' | 'info'): boolean {
  const root = PinoLogger.root as Pino | undefined;
  return root ? root.isLevelEnabled(level) : true;
}
