import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { requestIds, requestLogLine } from '@taskq/observability';

/**
 * Request logging without a logger per request: each request runs inside its id (so every
 * line logged while it runs carries `reqId`), and its own line is written once it is
 * answered, only if its level is (see requestLogLine). Install it before any other hook.
 */
export function installRequestLogging(instance: FastifyInstance, logger: Logger): void {
  instance.addHook('onRequest', (request, _reply, done) => requestIds.run(request.id, done));
  // The body is read from socket events, outside that context: the route runs inside it again.
  instance.addHook('preHandler', (request, _reply, done) => requestIds.run(request.id, done));
  instance.addHook('onResponse', (request, reply, done) => {
    const line = requestLogLine(logger, request, reply.raw, reply.elapsedTime);
    if (line) logger[line.level](line.fields, line.msg);
    done();
  });
}
