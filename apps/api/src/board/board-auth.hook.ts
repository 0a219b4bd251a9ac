import type { onRequestHookHandler } from 'fastify';
import { ProblemException } from '../errors/problem.exception';
import { sendProblem, toProblem } from '../errors/problem-details.filter';
import type { BoardCredentials } from './board-credentials';

/** Makes a browser ask for credentials. */
export const BOARD_CHALLENGE = 'Basic realm="taskq board", charset="UTF-8"';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Fastify `onRequest` hook for every route of the board (page, API calls, static files):
 * 401 without valid credentials, 403 for a viewer's request that could change anything or
 * that reached a route outside `readOnlyPath` (the read-only board). It runs after routing
 * but before the route's handler, so a refused request has no side effect.
 */
export function boardAuthHook(credentials: BoardCredentials, readOnlyPath: string): onRequestHookHandler {
  return (request, reply, done) => {
    const role = credentials.roleOf(request.headers.authorization);
    if (role === undefined) {
      const detail = credentials.configured
        ? 'The dashboard needs the credentials of a board account (HTTP basic auth).'
        : 'The dashboard has no account configured: set BOARD_ADMIN_USER and BOARD_ADMIN_PASSWORD (or BOARD_VIEWER_*).';
      void reply.header('www-authenticate', BOARD_CHALLENGE);
      sendProblem(reply, toProblem(ProblemException.unauthorized(detail), String(request.id)));
      return;
    }
    // routeOptions.url is the matched route's pattern (undefined when nothing matched): an
    // encoded URL that slipped past the viewer's rewrite still cannot reach the full board.
    const route = request.routeOptions.url;
    const outsideReadOnly = route !== undefined && route !== readOnlyPath && !route.startsWith(`${readOnlyPath}/`);
    if (role === 'viewer' && (!READ_METHODS.has(request.method) || outsideReadOnly)) {
      sendProblem(reply, toProblem(ProblemException.forbidden('The viewer account of the dashboard is read-only.'), String(request.id)));
      return;
    }
    done();
  };
}
