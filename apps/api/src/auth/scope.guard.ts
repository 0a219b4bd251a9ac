import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeyScope, scopeAllows } from '@taskq/contracts';
import { ProblemException, problemType } from '../errors/problem.exception';
import { ANY_KEY, NO_KEY, REQUIRED_SCOPE, type RouteAccess } from './requires-scope.decorator';

/**
 * Runs after the API-key hook has authenticated the request: checks that the key has the
 * route's scope. A route without `@RequiresScope` needs `admin` (fail closed).
 */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const required = this.reflector.getAllAndOverride<RouteAccess | undefined>(REQUIRED_SCOPE, [context.getHandler(), context.getClass()]) ?? ApiKeyScope.Admin;
    if (required === NO_KEY) return true;
    const principal = request.principal;
    if (principal && (required === ANY_KEY || scopeAllows(principal.scopes, required))) return true;
    throw new ProblemException({
      type: problemType('forbidden'),
      title: 'Forbidden',
      status: 403,
      detail: `This API key lacks the scope "${required}" that ${request.method} ${request.routeOptions.url ?? request.url} needs.`,
    });
  }
}
