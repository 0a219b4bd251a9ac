import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemException } from '../errors/problem.exception';
import { sendProblem, toProblem } from '../errors/problem-details.filter';
import { KeyStoreUnavailableError, type ApiKeyAuthenticator } from './api-key-authenticator';
import type { Principal } from './principal';

export interface ApiKeyAuthOptions {
  /** Paths with their own authentication (the board). */
  skip?: (path: string) => boolean;
  /** Another way in for some requests (the board's links to tasks): a principal, or undefined. */
  alternative?: (request: FastifyRequest, path: string) => Principal | undefined;
  /** A second `WWW-Authenticate` challenge for some requests (so a browser offers the board's login). */
  alternativeChallenge?: (request: FastifyRequest, path: string) => string | undefined;
  /** A console session for requests without a key: its principal, `csrf-refused`, or undefined (none). */
  session?: (request: FastifyRequest) => Promise<Principal | 'csrf-refused' | undefined>;
  /** The problem for a session request that changes something without its CSRF token. */
  csrfRefused?: ProblemException;
}

/**
 * Routes anyone may call: liveness, readiness, the API documentation, the console's files
 * (its data needs a session) and its sign-in, which checks the key in its body itself.
 */
export function isPublicPath(path: string): boolean {
  return (
    path === '/health' ||
    path === '/health/ready' ||
    path === '/docs' ||
    path.startsWith('/docs/') ||
    path === '/console' ||
    path.startsWith('/console/') ||
    path === '/auth/session'
  );
}

/** The key of a request: `Authorization: Bearer <key>`, else `X-API-Key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

const UNAUTHORIZED = ProblemException.unauthorized('A valid API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>".');

/**
 * Authenticates every request but the public ones before its body is read (Fastify
 * onRequest), so an anonymous client learns nothing — not even which routes exist. Missing,
 * unknown, revoked and malformed keys all get the same 401.
 */
export function installApiKeyAuth(instance: FastifyInstance, authenticator: ApiKeyAuthenticator, options: ApiKeyAuthOptions = {}): void {
  instance.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    // The route's own pattern as well: the router decodes paths (/admin/%71ueues is the board).
    const route = request.routeOptions.url;
    if (isPublicPath(path) || options.skip?.(path) || (route !== undefined && (isPublicPath(route) || options.skip?.(route)))) return;
    const alternative = options.alternative?.(request, path);
    if (alternative) {
      request.principal = alternative;
      return;
    }
    try {
      const key = presentedKey(request);
      if (key === undefined && options.session) {
        const session = await options.session(request);
        if (session === 'csrf-refused') {
          sendProblem(reply, (options.csrfRefused ?? ProblemException.forbidden('CSRF token missing')).problem);
          return reply;
        }
        if (session) {
          request.principal = session;
          return;
        }
      }
      const principal = await authenticator.authenticate(key);
      if (principal) {
        request.principal = principal;
        return;
      }
      const other = options.alternativeChallenge?.(request, path);
      void reply.header('www-authenticate', other ? ['Bearer realm="taskq"', other] : 'Bearer realm="taskq"');
      sendProblem(reply, UNAUTHORIZED.problem);
    } catch (error) {
      const problem = error instanceof KeyStoreUnavailableError ? ProblemException.unavailable('API keys cannot be checked: the key store (PostgreSQL) is unavailable. Retry later.', error) : error;
      sendProblem(reply, toProblem(problem, String(request.id)));
    }
    return reply;
  });
}
