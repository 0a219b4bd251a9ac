import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MonitorConfig, loadConfig } from '@taskq/config';
import { openPreparedDataSource } from '@taskq/persistence';
import { TEST_REDIS_URL } from '@taskq/testing';
import { MonitorModule } from '../monitor.module';

/** Every line the monitor logged, as `<level> [<context>] <message>`. */
export class CapturedLogs implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, context?: string): void {
    this.add('info', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest.at(-1));
  }
  warn(message: unknown, context?: string): void {
    this.add('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.add('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.add('verbose', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.add('fatal', message, context);
  }

  matching(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }

  private add(level: string, message: unknown, context: unknown): void {
    this.lines.push(`${level} [${typeof context === 'string' ? context : '-'}] ${String(message)}`);
    if (process.env['TEST_LOG_LEVEL']) process.stdout.write(`monitor ${this.lines.at(-1)}\n`);
  }
}

export interface MonitorTestApp {
  app: INestApplicationContext;
  config: MonitorConfig;
  logs: CapturedLogs;
  /** Runs the shutdown hooks as SIGTERM does. */
  close(): Promise<void>;
}

/**
 * The monitor in-process with its logs captured: what createMonitorApp builds, minus the
 * start-up checks (the e2e tests cover them). Creates and migrates the database.
 */
export async function startMonitor(env: Record<string, string>, logs = new CapturedLogs()): Promise<MonitorTestApp> {
  const config = loadConfig(MonitorConfig, { REDIS_URL: TEST_REDIS_URL, METRICS_PORT: '-1', SHUTDOWN_TIMEOUT_MS: '5000', ...env });
  const dataSource = await openPreparedDataSource({ url: config.databaseUrl });
  const app = await NestFactory.createApplicationContext(MonitorModule.forRoot(config, dataSource), { logger: logs });
  return { app, config, logs, close: () => app.close() };
}
