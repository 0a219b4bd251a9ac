import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { scopeAllows } from '@taskq/contracts';
import { ProblemException } from '../errors/problem.exception';
import { ANY_KEY, NO_KEY, routeAccessOf } from './requires-scope.decorator';

/**
 * Runs after the API-key hook has authenticated the request: checks that the key has the
 * route's scope. A route without `@RequiresScope` needs `admin` (fail closed).
 */
@Injectable()
export class ScopeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const required = routeAccessOf(context.getHandler(), context.getClass());
    if (required === NO_KEY) return true;
    const principal = request.principal;
    if (principal && (required === ANY_KEY || scopeAllows(principal.scopes, required))) return true;
    throw ProblemException.forbidden(`This API key lacks the scope "${required}" that ${request.method} ${request.routeOptions.url ?? request.url} needs.`);
  }
}
