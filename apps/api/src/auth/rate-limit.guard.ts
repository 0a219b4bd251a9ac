import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ApiConfig } from '@taskq/config';
import { problemForStatus } from '../errors/problem-details.filter';
import { ProblemException } from '../errors/problem.exception';
import { PRODUCER_REDIS } from '../infrastructure/tokens';
import { RateLimiter, type RateLimitDecision } from '../rate-limit/rate-limiter';

/**
 * Per-key rate limits, shared by every API replica through Redis (see {@link RateLimiter}).
 * Requests without a key (health, docs) are not counted. Every counted answer carries
 * X-RateLimit-Limit, -Remaining and -Reset; over the limit: 429 with Retry-After.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiter | undefined;
  private readonly refusal: string;

  constructor(config: ApiConfig, @Inject(PRODUCER_REDIS) redis: Redis) {
    this.limiter =
      config.rateLimitRequests > 0
        ? new RateLimiter(redis, { limit: config.rateLimitRequests, windowMs: config.rateLimitWindowMs, claimSize: config.rateLimitClaimSize, prefix: config.queuePrefix })
        : undefined;
    this.refusal = `This API key made more than ${config.rateLimitRequests} requests in ${config.rateLimitWindowMs / 1_000} s: retry after the time in Retry-After.`;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const principal = http.getRequest<FastifyRequest>().principal;
    if (!this.limiter || !principal) return true;
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
