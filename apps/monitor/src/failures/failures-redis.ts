import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { RedisConnection } from '@taskq/queue';

/** The failure watching's own Redis connection: alert claims, the watched-until mark, the server clock. */
export const FAILURES_REDIS = Symbol('FAILURES_REDIS');

/** Closes the connection after every beforeApplicationShutdown hook (the last alert flush) has run. */
@Injectable()
export class FailuresRedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(FAILURES_REDIS) private readonly redis: RedisConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
