import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemException, problemType } from '../errors/problem.exception';
import { sendProblem, toProblem } from '../errors/problem-details.filter';
import { KeyStoreUnavailableError, type ApiKeyAuthenticator } from './api-key-authenticator';

/** Routes anyone may call: liveness, readiness and the API documentation. */
export function isPublicPath(path: string): boolean {
  return path === '/health' || path === '/health/ready' || path === '/docs' || path.startsWith('/docs/');
}

/** The key of a request: `Authorization: Bearer <key>`, else `X-API-Key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

const UNAUTHORIZED = new ProblemException({
  type: problemType('unauthorized'),
  title: 'Unauthorized',
  status: 401,
  detail: 'A valid API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>".',
});

/**
 * Authenticates every request but the public ones before its body is read (Fastify
 * onRequest), so an anonymous client learns nothing — not even which routes exist. Missing,
 * unknown, revoked and malformed keys all get the same 401. `skip` leaves paths with their own
 * authentication (the board) alone.
 */
export function installApiKeyAuth(instance: FastifyInstance, authenticator: ApiKeyAuthenticator, skip: (path: string) => boolean = () => false): void {
  instance.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    if (isPublicPath(path) || skip(path)) return;
    try {
      const principal = await authenticator.authenticate(presentedKey(request));
      if (principal) {
        request.principal = principal;
        return;
      }
      void reply.header('www-authenticate', 'Bearer realm="taskq"');
      sendProblem(reply, UNAUTHORIZED.problem);
    } catch (error) {
      const problem = error instanceof KeyStoreUnavailableError ? ProblemException.unavailable('API keys cannot be checked: the key store (PostgreSQL) is unavailable. Retry later.') : error;
      sendProblem(reply, toProblem(problem, String(request.id)));
    }
    return reply;
  });
}
