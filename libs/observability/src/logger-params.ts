import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream, type LevelWithSilent } from 'pino';
import type { Options } from 'pino-http';
import pretty from 'pino-pretty';
import type { CommonConfig } from '@taskq/config';
import type { TaskqApp } from './taskq-metrics';

/** Never written to a log: credentials in request and response headers. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Liveness probes and scrapes would drown the request log at info. */
const PROBE = /^\/(health|metrics)(\/|\?|$)/;

const requestPath = (request: IncomingMessage): string => (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '';

/** A 503 answered on purpose, not an error the request hit (pino-http then synthesises one without `res.err`). */
const isRefusal = (response: ServerResponse, error: Error | undefined): boolean =>
  response.statusCode === 503 && (error === undefined || /^failed with status code 503$/.test(error.message));

type LoggingConfig = Pick<CommonConfig, 'logLevel' | 'logFormat' | 'nodeEnv'>;

/** Human-readable lines for a developer at a terminal (LOG_FORMAT=auto); JSON lines everywhere else. */
export function wantsPrettyLogs(config: Omit<LoggingConfig, 'logLevel'>): boolean {
  if (config.logFormat !== 'auto') return config.logFormat === 'pretty';
  return process.stdout.isTTY === true && config.nodeEnv !== 'production';
}

/**
 * nestjs-pino parameters shared by api, worker and monitor: one JSON object per line on
 * stdout (ISO time, level name, `app`, `context`), credentials redacted. In the API every
 * line logged while a request runs carries its `reqId` (Fastify's request id, which
 * honours an incoming `x-request-id`); the request's own line adds method, URL, status
 * and `responseTime`.
 */
export function loggerParams(app: TaskqApp, config: LoggingConfig): Params {
  const prettyLogs = wantsPrettyLogs(config);
  const options: Options<IncomingMessage, ServerResponse> = {
    level: config.logLevel,
    base: { app, pid: process.pid, hostname: hostname() },
    timestamp: stdTimeFunctions.isoTime,
    // pino-pretty reads numeric levels; JSON readers prefer names.
    ...(prettyLogs ? {} : { formatters: { level: (label: string) => ({ level: label }) } }),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Lines logged during a request carry only its id; the request line has the details.
    quietReqLogger: true,
    customLogLevel: (request, response, error): LevelWithSilent => {
      // A 503 is a planned refusal (a dependency away, a full queue): its reason is logged
      // where it was decided, once a minute; the request line stays, as a warning.
      if (isRefusal(response, error)) return 'warn';
      if (error || response.statusCode >= 500) return 'error';
      return PROBE.test(requestPath(request)) ? 'debug' : 'info';
    },
    customSuccessMessage: (request, response, responseTime) => `${request.method} ${requestPath(request)} ${response.statusCode} in ${responseTime} ms`,
    customErrorMessage: (request, response, error) =>
      isRefusal(response, error) ? `${request.method} ${requestPath(request)} 503` : `${request.method} ${requestPath(request)} ${response.statusCode}: ${error.message}`,
    // pino-http makes up an error (with a stack) for every 5xx: not for a refusal.
    customErrorObject: (_request, response, error, value: Record<string, unknown>) => {
      if (!isRefusal(response, error)) return value;
      const { err: _synthetic, ...rest } = value;
      return rest;
    },
  };
  // process.stdout, not a file descriptor: writes to pipes and files are synchronous on
  // Linux, so a process.exit() right after a line loses nothing.
  const destination: DestinationStream = prettyLogs
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app,context', messageFormat: '{if context}[{context}] {end}{msg}', destination: process.stdout })
    : process.stdout;
  return {
    pinoHttp: [options, destination],
    // nestjs-pino's default route, "{/*splat}", matches no request on @nestjs/platform-fastify 12.
    forRoutes: [{ path: '/{*splat}', method: RequestMethod.ALL }],
  };
}
