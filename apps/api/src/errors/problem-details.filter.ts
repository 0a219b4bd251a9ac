import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { dependencyOutageOf } from './dependency-outage';
import { keyedThrottledLog } from '@taskq/observability';
import { ProblemException, RETRY_AFTER_SECONDS, problemType, type ProblemDetails } from './problem.exception';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const SLUGS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  408: 'request-timeout',
  409: 'conflict',
  413: 'payload-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  422: 'unprocessable-content',
  429: 'too-many-requests',
  431: 'request-header-fields-too-large',
  500: 'internal-error',
  503: 'service-unavailable',
};

/** The standard problem of a status: a type, a title, and the client's detail (never for 5xx: that stays in the log). */
export function problemForStatus(status: number, detail: string, requestId?: string): ProblemDetails {
  const type = problemType(SLUGS[status] ?? (status >= 500 ? 'internal-error' : 'client-error'));
  if (status >= 500) return { type, title: titleOf(status), status, detail: 'The server could not complete the request.', requestId };
  return { type, title: titleOf(status), status, detail };
}

/** Turns any error into a problem document. 5xx bodies carry only a request id: details stay in the log. */
export function toProblem(error: unknown, requestId: string): ProblemDetails {
  if (error instanceof ProblemException) return { ...error.problem, ...(error.problem.status >= 500 ? { requestId } : {}) };
  const outage = dependencyOutageOf(error);
  if (outage) return { ...ProblemException.unavailable(`${outage === 'a backing service' ? 'A backing service' : outage} is unavailable. Retry later.`).problem, requestId };
  const status = statusOf(error);
  return problemForStatus(status, detailOf(error), requestId);
}

function statusOf(error: unknown): number {
  if (error instanceof HttpException) return error.getStatus();
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : HttpStatus.INTERNAL_SERVER_ERROR;
}

function titleOf(status: number): string {
  if (status === 414) return 'URI too long';
  const name = HttpStatus[status];
  return typeof name === 'string' ? name.toLowerCase().replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) : 'Error';
}

function detailOf(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return error instanceof Error ? error.message : 'The request could not be processed.';
}

/** The headers of every problem answer: its content type, and for a 503 when to retry (unless the answer names its own). */
export function setProblemHeaders(reply: FastifyReply, status: number): void {
  void reply.header('content-type', PROBLEM_CONTENT_TYPE);
  if (status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
}

/** Every error leaves through here. */
export function sendProblem(reply: FastifyReply, problem: ProblemDetails): void {
  setProblemHeaders(reply, problem.status);
  void reply.status(problem.status).send(JSON.stringify(problem));
}

/** The message of the failure behind a 503: the cause a ProblemException carries, or the outage error itself. */
function causeOf(error: unknown): string | undefined {
  const cause = error instanceof ProblemException ? error.cause : error;
  return cause instanceof Error ? cause.message : undefined;
}

export interface ProblemDetailsOptions {
  /** The methods the API serves on a path (none: the path is unknown), for 405 and its Allow header. */
  allowedMethods?: (path: string) => string[];
}

/** Every error a route throws leaves the server as application/problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');
  /** A 503 repeats on every request while a dependency is away: one line per kind of failure a minute. */
  private readonly logRefusal = keyedThrottledLog((message) => this.logger.warn(message));

  constructor(private readonly options: ProblemDetailsOptions = {}) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    let problem = toProblem(error, String(request.id));
    if (problem.status === 503) {
      // A planned refusal (backlog full, a dependency down): a warn line without a stack, naming
      // the failure behind it, throttled (the line carries the first request's reqId).
      const cause = causeOf(error);
      this.logRefusal(`${problem.type}|${cause ?? ''}`, `${request.method} ${request.url} answered 503: ${problem.detail}${cause ? ` (${cause})` : ''}`);
    } else if (problem.status >= 500) {
      // Unexpected: the stack goes in `err`.
      if (error instanceof ProblemException) this.logger.warn(`${request.method} ${request.url} answered ${problem.status}: ${problem.detail}`);
      else this.logger.error({ msg: `${request.method} ${request.url} failed: ${error instanceof Error ? error.message : String(error)}`, err: error });
    }
    if (problem.status === 404 && request.is404) {
      // No route matched: a known path with another method is a 405, which names the methods it has.
      const path = request.url.split('?', 1)[0] ?? '/';
      const allowed = this.options.allowedMethods?.(path) ?? [];
      if (allowed.length > 0) {
        void reply.header('allow', allowed.join(', '));
        problem = problemForStatus(405, `${request.method} is not allowed on ${path}: use ${allowed.join(', ')}.`);
      }
    }
    if (error instanceof ProblemException) for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
    sendProblem(reply, problem);
  }
}
