import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException, problemType, type ProblemDetails } from './problem.exception';
import { PROBLEM_CONTENT_TYPE, problemForStatus, sendProblem } from './problem-details.filter';

/**
 * Errors Fastify's router answers itself, before any hook or route runs (the FastifyAdapter
 * option `frameworkErrors`): a malformed percent-encoding and an over-long path parameter.
 */
export function frameworkErrorProblem(error: FastifyError): ProblemDetails {
  if (error.code === 'FST_ERR_BAD_URL') {
    return { type: problemType('invalid-url'), title: 'Invalid URL', status: 400, detail: 'The URL is not valid: a path segment is not a correct percent-encoding of UTF-8 text.' };
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return problemForStatus(414, 'A path parameter of the URL is too long.');
  return problemForStatus(typeof error.statusCode === 'number' ? error.statusCode : 500, error.message);
}

export function sendFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const problem = frameworkErrorProblem(error);
  void reply.header('x-request-id', request.id);
  sendProblem(reply, problem.status >= 500 ? { ...problem, requestId: String(request.id) } : problem);
}

/**
 * Requests Node's HTTP parser refuses (header too large, not HTTP at all, too slow): no
 * request exists yet, so the answer is written on the socket (the FastifyAdapter option
 * `clientErrorHandler`, in place of Fastify's plain JSON).
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive.']
        : [400, 'The request is not valid HTTP.'];
  const body = JSON.stringify(problemForStatus(status, detail));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

const SHUTTING_DOWN = ProblemException.unavailable('The server is shutting down: retry the request (on another replica).');

/**
 * While the server drains (SIGTERM), requests that arrive on open keep-alive connections get
 * a 503 problem document (with `Connection: close`) instead of Fastify's plain JSON one:
 * the FastifyAdapter must be built with `return503OnClosing: false`. Install it first.
 */
export function installShutdownAnswer(instance: FastifyInstance): void {
  let closing = false;
  instance.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  instance.addHook('onRequest', (request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    void reply.header('connection', 'close');
    sendProblem(reply, { ...SHUTTING_DOWN.problem, requestId: String(request.id) });
  });
}
