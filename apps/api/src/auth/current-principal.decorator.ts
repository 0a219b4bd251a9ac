import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './principal';

/** The authenticated caller of a request (set by the API-key hook before any route runs). */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (!principal) throw new Error('no principal on an authenticated route: is the API-key hook installed?');
  return principal;
}

/** The authenticated caller of the request, as a route parameter. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => principalOf(context.switchToHttp().getRequest<FastifyRequest>()));
