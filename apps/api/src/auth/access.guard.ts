import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RedisConnection } from '@taskq/queue';
import { ApiConfig } from '@taskq/config';
import { scopeAllows } from '@taskq/contracts';
import { PRODUCER_REDIS } from '@taskq/queue';
import { problemForStatus } from '../errors/problem-details.filter';
import { ProblemException } from '../errors/problem.exception';
import { RateLimiter, type RateLimitDecision } from '../rate-limit/rate-limiter';
import { ANY_KEY, NO_KEY, routeAccessOf, type RouteAccess } from './requires-scope.decorator';

/**
 * Runs after the API-key hook has authenticated the request (one guard, for every route):
 * 1. the key must have the route's scope (`@RequiresScope`; none: `admin`, fail closed) — 403;
 * 2. then the request counts against the key's rate limit, shared by every API replica through
 *    Redis (see {@link RateLimiter}); requests without a key (health, docs) are not counted.
 *    Every counted answer carries X-RateLimit-Limit, -Remaining and -Reset; over the limit:
 *    429 with Retry-After. A key without the route's scope is refused before it counts.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly limiter: RateLimiter | undefined;
  private readonly refusal: string;
  /** Each handler's access, read from its metadata once. */
  private readonly access = new WeakMap<object, RouteAccess>();

  constructor(config: ApiConfig, @Inject(PRODUCER_REDIS) redis: RedisConnection) {
    this.limiter =
      config.rateLimitRequests > 0
        ? new RateLimiter(redis, { limit: config.rateLimitRequests, windowMs: config.rateLimitWindowMs, claimSize: config.rateLimitClaimSize, prefix: config.queuePrefix })
        : undefined;
    this.refusal = `This API key made more than ${config.rateLimitRequests} requests in ${config.rateLimitWindowMs / 1_000} s: retry after the time in Retry-After.`;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const handler = context.getHandler();
    let required = this.access.get(handler);
    if (required === undefined) {
      required = routeAccessOf(handler, context.getClass());
      this.access.set(handler, required);
    }
    if (required === NO_KEY) return true;
    const principal = request.principal;
    if (!principal || (required !== ANY_KEY && !scopeAllows(principal.scopes, required))) {
      throw ProblemException.forbidden(`This API key lacks the scope "${required}" that ${request.method} ${request.routeOptions.url ?? request.url} needs.`);
    }
    if (!this.limiter) return true;
    const decision = this.limiter.take(principal.keyPrefix);
    const reply = http.getResponse<FastifyReply>();
    return decision instanceof Promise ? decision.then((settled) => this.answer(settled, reply)) : this.answer(decision, reply);
  }

  private answer(decision: RateLimitDecision, reply: FastifyReply): boolean {
    if (!decision.allowed) throw new ProblemException(problemForStatus(429, this.refusal), { 'retry-after': String(decision.resetSeconds) });
    void reply.header('x-ratelimit-limit', decision.limit);
    void reply.header('x-ratelimit-remaining', decision.remaining);
    void reply.header('x-ratelimit-reset', decision.resetSeconds);
    return true;
  }
}
