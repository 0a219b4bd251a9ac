import { Logger as NestLogger, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { Logger as PinoNestLogger, LoggerModule, PinoLogger } from 'nestjs-pino';
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

/** The nestjs-pino module of an app (the API's request logging middleware included). */
export function appLoggerModule(app: TaskqApp, config: LoggingConfig): DynamicModule {
  return LoggerModule.forRoot(loggerParams(app, config));
}

/** Hands Nest's logging to nestjs-pino once the app exists (replays the buffered lines). */
export function useAppLogger(app: INestApplicationContext): void {
  app.useLogger(app.get(PinoNestLogger));
}
