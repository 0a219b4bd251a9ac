import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { ApiConfig } from '@taskq/config';
import { RedisThrottlerStorage } from '../rate-limit/redis-throttler-storage';

const principalOf = (request: unknown): FastifyRequest['principal'] => (request as FastifyRequest).principal;

/**
 * Per-key rate limits, counted in Redis so the limit holds across API replicas. Requests
 * without a key (health, docs) are not counted; over the limit: 429 with Retry-After.
 */
export function rateLimitOptions(config: ApiConfig, redis: Redis): ThrottlerModuleOptions {
  return {
    // Named `default`: other names suffix the headers (`Retry-After-<name>`), which clients do not read.
    throttlers: [{ name: 'default', ttl: config.rateLimitWindowMs, limit: config.rateLimitRequests }],
    storage: new RedisThrottlerStorage(redis, config.queuePrefix),
    getTracker: (request) => principalOf(request)?.keyPrefix ?? 'anonymous',
    // One counter per key for the whole API (the default counts each route separately).
    generateKey: (_context, tracker) => tracker,
    skipIf: (context: ExecutionContext) => config.rateLimitRequests === 0 || principalOf(context.switchToHttp().getRequest()) === undefined,
    errorMessage: `This API key made more than ${config.rateLimitRequests} requests in ${config.rateLimitWindowMs / 1_000} s: retry after the time in Retry-After.`,
  };
}
