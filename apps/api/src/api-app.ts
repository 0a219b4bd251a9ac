import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import type { ApiConfig } from '@taskq/config';
import { flattenValidationErrors } from '@taskq/contracts';
import { rootAppLogger, startAppLogging, useAppLogger } from '@taskq/observability';
import { openPreparedDataSource, startupDatabaseOptions } from '@taskq/persistence';
import { DeadLetterMirror, TaskProducer, checkRedis } from '@taskq/queue';
import { ApiModule } from './api.module';
import { BoardCredentials } from './board/board-credentials';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator';
import { installApiKeyAuth } from './auth/api-key-auth.hook';
import { resolveBootstrapKey } from './auth/bootstrap-key';
import { boardTaskChallenge, boardTaskReader } from './board/board-task-reader';
import { isBoardUrl, mountBullBoard, routeBoardViewers } from './board/bull-board';
import { mountApiDocs } from './docs/mount-docs';
import { csrfRefused } from './console/console-session.controller';
import { ConsoleSessions } from './console/console-sessions';
import { mountConsole } from './console/mount-console';
import { ProblemException } from './errors/problem.exception';
import { answerClientError, installShutdownAnswer, sendFrameworkError } from './errors/framework-errors';
import { ProblemDetailsFilter } from './errors/problem-details.filter';
import { FastValidationPipe } from './http/fast-validation.pipe';
import { installJsonBodyParser } from './http/json-body-parser';
import { installRequestLogging } from './http/request-logging';
import { RouteMethods } from './http/route-methods';
import { installUrlInputGuard } from './http/url-input-guard';

/**
 * Waits for Redis and PostgreSQL (up to STARTUP_CHECK_TIMEOUT_MS), creates and migrates the database, then builds the Nest app.
 * Used by main.ts and by tests, so both start the API the same way.
 */
export async function createApiApp(config: ApiConfig): Promise<NestFastifyApplication> {
  // Start-up lines go through pino (JSON, LOG_LEVEL) before Nest exists.
  startAppLogging('api', config);
  await checkRedis(config.redisUrl, config.startupCheckTimeoutMs, (message) => new Logger('Redis').warn(message));
  const dataSource = await openPreparedDataSource(startupDatabaseOptions(config), (applied) =>
    new Logger('Database').log(`applied migrations: ${applied.join(', ')}`),
  );
  try {
    return await buildApp(config, dataSource, await resolveBootstrapKey(config, dataSource));
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}

async function buildApp(config: ApiConfig, dataSource: DataSource, bootstrapKey: string | undefined): Promise<NestFastifyApplication> {
  const boardCredentials = BoardCredentials.fromConfig(config);
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // Bull Board: the viewer's requests go to the read-only board (see bull-board.ts).
    rewriteUrl: routeBoardViewers(boardCredentials),
    // The request id of every log line of the request (reqId) and of 5xx problem documents.
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    // Every error is a problem document, also those answered before any hook runs
    // (malformed URL, over-long path parameter, unparsable HTTP, shutdown): see framework-errors.ts.
    frameworkErrors: sendFrameworkError,
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config, dataSource, bootstrapKey), adapter, {
    bufferLogs: true,
    // The API reads JSON only, through its own parser (installJsonBodyParser).
    bodyParser: false,
  });
  useAppLogger(app);
  app.useGlobalPipes(
    new FastValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => ProblemException.validation(flattenValidationErrors(errors)),
    }),
  );
  const fastify = app.getHttpAdapter().getInstance();
  // First: every later hook, and the route, run inside the request's id.
  installRequestLogging(fastify, rootAppLogger());
  const routes = RouteMethods.collect(fastify);
  app.useGlobalFilters(new ProblemDetailsFilter({ allowedMethods: (path) => routes.allowedFor(path) }));
  installJsonBodyParser(fastify, {
    bodyLimitBytes: config.bodyLimitBytes,
    bulkBodyLimitBytes: config.bulkBodyLimitBytes,
    maxDepth: config.jsonMaxDepth,
  });
  // Clients can quote the id when they report a problem; it is on every log line of the request.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  installShutdownAnswer(fastify);
  // Many HTTP clients label even an empty body as JSON (POST /tasks/:id/cancel has none):
  // treat an empty body as no body instead of as malformed JSON.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const empty = request.headers['transfer-encoding'] === undefined && (request.headers['content-length'] ?? '0') === '0';
    if (empty) delete request.headers['content-type'];
    done();
  });
  const consoleSessions = app.get(ConsoleSessions);
  // Every route but health, docs, the console's files and the board (its own basic auth) needs an API key or a console session.
  installApiKeyAuth(fastify, app.get(ApiKeyAuthenticator), {
    skip: isBoardUrl,
    alternative: boardTaskReader(boardCredentials),
    alternativeChallenge: boardTaskChallenge(boardCredentials),
    session: (request) => consoleSessions.principalFor(request),
    csrfRefused: csrfRefused(),
  });
  installUrlInputGuard(fastify);
  mountBullBoard(app, boardCredentials, [...app.get(TaskProducer).allQueues(), app.get(DeadLetterMirror).queue]);
  mountConsole(app, config.consoleDir);
  // Swagger UI at /docs, the OpenAPI document at /docs/json (public, like health).
  mountApiDocs(app);
  // Exit 0 after a clean shutdown (the default re-raises the signal).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  return app;
}
