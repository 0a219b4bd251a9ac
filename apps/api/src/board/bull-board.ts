import type { IncomingHttpHeaders } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { TASK_TYPE_NAMES, getTaskType } from '@taskq/contracts';
import { DEAD_LETTER_QUEUE, queueNameFor } from '@taskq/queue';
import { dependencyOutageOf } from '../errors/dependency-outage';
import { ProblemException } from '../errors/problem.exception';
import { problemForStatus, sendProblem, setProblemHeaders, toProblem } from '../errors/problem-details.filter';
import { boardAuthHook } from './board-auth.hook';
import type { BoardCredentials } from './board-credentials';

/** Where operators open Bull Board. */
export const BOARD_PATH = '/admin/queues';

/**
 * Bull Board's read-only mode is a property of its queue adapters, so the viewer gets a board
 * of its own: the same page and API, mounted here and reached only by rewriting the viewer's
 * requests (see {@link routeBoardViewers}). Its UI keeps BOARD_PATH as base path.
 */
export const READ_ONLY_BOARD_PATH = `${BOARD_PATH}/read-only`;

/** Whether a URL (or a path) is the board's: BOARD_PATH or anything under it. */
export function isBoardUrl(url: string): boolean {
  const path = url.split('?', 1)[0] as string;
  return path === BOARD_PATH || path.startsWith(`${BOARD_PATH}/`);
}

/**
 * Fastify's `rewriteUrl` (it runs before routing): sends a viewer's board requests to the
 * read-only board, so admins and viewers share one URL. Authorisation is not decided here but
 * by the board's onRequest hook, which sees every request to either board.
 */
export function routeBoardViewers(credentials: BoardCredentials): (request: { url?: string; headers: IncomingHttpHeaders }) => string {
  return (request) => {
    const url = request.url ?? '/';
    if (!isBoardUrl(url) || credentials.roleOf(request.headers.authorization) !== 'viewer') return url;
    return READ_ONLY_BOARD_PATH + url.slice(BOARD_PATH.length);
  };
}

const descriptions = new Map<string, string>([
  ...TASK_TYPE_NAMES.map((type): [string, string] => [queueNameFor(type), getTaskType(type).description]),
  [DEAD_LETTER_QUEUE, 'Dead tasks. PostgreSQL is the record: requeue them with POST /dlq/:id/requeue.'],
]);

/** Task jobs and dead-letter mirror jobs both have the task id as job id. */
const taskLink = (job: { id?: string | number | null | undefined }): { href: string; displayText: string } => ({
  href: `/tasks/${encodeURIComponent(String(job.id))}`,
  displayText: 'Task details',
});

function boardPlugin(queues: Queue[], readOnlyMode: boolean): ReturnType<FastifyAdapter['registerPlugin']> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map(
      (queue) =>
        new BullMQAdapter(queue, {
          readOnlyMode,
          displayName: queue.name.replace(/^\{(.*)\}$/, '$1'),
          description: descriptions.get(queue.name) ?? '',
          externalJobUrl: taskLink,
        }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'taskq' } },
  });
  serverAdapter.setErrorHandler(boardErrorAnswer);
  return serverAdapter.registerPlugin();
}

const boardLogger = new Logger('Board');

type BoardAnswer = ReturnType<Parameters<FastifyAdapter['setErrorHandler']>[0]>;
// Bull Board's types list only the statuses it answers itself; Fastify sends any.
const SERVICE_UNAVAILABLE = 503 as number as BoardAnswer['status'];

/**
 * The board's API reads Redis on every call: while Redis is away it answers 503 (the scope's
 * onSend hook adds Retry-After), like the rest of the API, instead of Bull Board's 500.
 */
function boardErrorAnswer(error: Error): BoardAnswer {
  if (dependencyOutageOf(error)) return { status: SERVICE_UNAVAILABLE, body: ProblemException.unavailable('Redis is unavailable: the dashboard cannot read the queues. Retry later.').problem };
  boardLogger.error({ msg: `dashboard request failed: ${error.message}`, err: error });
  return { status: 500, body: problemForStatus(500, error.message) };
}

/**
 * Mounts Bull Board at BOARD_PATH on the API's Fastify instance: every task queue of the
 * registry and the dead-letter queue. Its routes are Fastify routes, not Nest controllers, so
 * no Nest guard runs for them: both boards live in one Fastify scope whose onRequest hook
 * authenticates every route inside it (page, API calls, static files, unknown URLs).
 */
export function mountBullBoard(app: NestFastifyApplication, credentials: BoardCredentials, queues: Queue[]): void {
  if (!credentials.configured) {
    new Logger('Board').warn(`no Bull Board account is configured: ${BOARD_PATH} answers 401 to every request. Set BOARD_ADMIN_USER and BOARD_ADMIN_PASSWORD.`);
  }
  const fastify: FastifyInstance = app.getHttpAdapter().getInstance();
  void fastify.register(
    async (scope) => {
      scope.addHook('onRequest', boardAuthHook(credentials, READ_ONLY_BOARD_PATH));
      scope.setNotFoundHandler((request, reply) => sendProblem(reply, toProblem(ProblemException.notFound(`${request.method} ${request.originalUrl} is not part of the dashboard.`), String(request.id))));
      // Bull Board writes its own error answers (see boardErrorAnswer): make them problem documents with Retry-After.
      scope.addHook('onSend', (_request, reply, payload, done) => {
        if (reply.statusCode >= 500) setProblemHeaders(reply, reply.statusCode);
        done(null, payload);
      });
      await scope.register(boardPlugin(queues, false));
      await scope.register(boardPlugin(queues, true), { prefix: READ_ONLY_BOARD_PATH.slice(BOARD_PATH.length) });
    },
    { prefix: BOARD_PATH },
  );
}
