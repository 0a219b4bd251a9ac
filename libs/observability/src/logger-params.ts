import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream, type Level, type Logger } from 'pino';
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

/**
 * The id of the HTTP request being served: the API runs each request inside it (see its
 * request-logging hooks), and every line logged meanwhile carries it as `reqId`. pino asks
 * for it only when it writes a line, so nothing is made per request for lines not written.
 */
export const requestIds = new AsyncLocalStorage<string>();

const withRequestId = (): Record<string, unknown> => {
  const reqId = requestIds.getStore();
  return reqId === undefined ? {} : { reqId };
};

/** What an API request line shows of the request (a Fastify request fits). */
export interface RequestLogSubject {
  id: string;
  method: string;
  /** The URL as the client sent it. */
  originalUrl: string;
}

/** What it shows of the answer (a Fastify reply fits: `statusCode`, `getHeaders()`). */
export interface ResponseLogSubject {
  statusCode: number;
}

export interface RequestLogLine {
  level: Level;
  fields: Record<string, unknown>;
  msg: string;
}

/**
 * The line the API writes for each request once it is answered, or null when its level is
 * not written (at `LOG_LEVEL=warn` a 2xx costs one level check). `info` with method, URL,
 * status and `responseTime` (probes: `debug`); a 503 is a planned refusal (a dependency away,
 * a full queue) whose reason is logged where it was decided, so its line is a `warn`
 * without an error; any other 5xx is an `error` line with `err`. `req` and `res` go through
 * the logger's serializers (pino-http's: id, method, URL, query, headers, remote address;
 * status code and headers), credentials redacted.
 */
export function requestLogLine(logger: Pick<Logger, 'isLevelEnabled'>, request: RequestLogSubject, response: ResponseLogSubject, responseTimeMs: number): RequestLogLine | null {
  const status = response.statusCode;
  const level: Level = status === 503 ? 'warn' : status >= 500 ? 'error' : PROBE.test(request.originalUrl) ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return null;
  const responseTime = Math.round(responseTimeMs);
  const fields = { reqId: request.id, req: request, res: response, responseTime };
  const route = `${request.method} ${request.originalUrl}`;
  if (status === 503) return { level, fields, msg: `${route} 503` };
  if (status >= 500) {
    const err = new Error(`failed with status code ${status}`);
    return { level, fields: { ...fields, err }, msg: `${route} ${status}: ${err.message}` };
  }
  return { level, fields, msg: `${route} ${status} in ${responseTime} ms` };
}

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
 * honours an incoming `x-request-id`), and each request has its own line
 * ({@link requestLogLine}), written from Fastify hooks: nestjs-pino's per-request
 * middleware (a pino-http child logger for every request) is not mounted.
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
    mixin: withRequestId,
  };
  // process.stdout, not a file descriptor: writes to pipes and files are synchronous on
  // Linux, so a process.exit() right after a line loses nothing.
  const destination: DestinationStream = prettyLogs
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app,context', messageFormat: '{if context}[{context}] {end}{msg}', destination: process.stdout })
    : process.stdout;
  // The root logger is pino-http's (nestjs-pino builds it), so `req`, `res` and `err` fields go
  // through its serializers; no route gets its middleware.
  return { pinoHttp: [options, destination], forRoutes: [] };
}
