import type { FastifyRequest } from 'fastify';
import { ApiKeyScope } from '@taskq/contracts';
import type { Principal } from '../auth/principal';
import { BOARD_CHALLENGE } from './board-auth.hook';
import type { BoardCredentials } from './board-credentials';

const TASK_DETAIL = /^\/tasks\/[^/]+$/;

const isTaskDetail = (request: FastifyRequest, path: string): boolean => request.method === 'GET' && TASK_DETAIL.test(path);

/**
 * The board's "Task details" links open `GET /tasks/:id` in the operator's browser, which
 * sends the board's basic-auth credentials, not an API key. Board accounts see every job
 * (and its data) in the board already, so reading a task's detail with them reveals nothing
 * new: they get read access to that one route, for every tenant.
 */
export function boardTaskReader(credentials: BoardCredentials): (request: FastifyRequest, path: string) => Principal | undefined {
  return (request, path) => {
    if (!isTaskDetail(request, path)) return undefined;
    const role = credentials.roleOf(request.headers.authorization);
    return role ? { keyPrefix: `board:${role}`, name: `Bull Board ${role}`, scopes: [ApiKeyScope.TasksRead], tenant: 'default', allTenants: true } : undefined;
  };
}

/**
 * On a refused task detail, the board's challenge as well: a browser that logged in to the
 * board answers it with the same credentials (same realm), so the links just work.
 */
export function boardTaskChallenge(credentials: BoardCredentials): (request: FastifyRequest, path: string) => string | undefined {
  return (request, path) => (credentials.configured && isTaskDetail(request, path) ? BOARD_CHALLENGE : undefined);
}
