import { Logger } from '@nestjs/common';
import type { RedisConnection } from '@taskq/queue';
import { throttledLog } from '@taskq/observability';

/**
 * Claims up to ARGV[3] requests of a key's window for one replica; the window opens with its
 * first claim and lasts ARGV[1] ms. Near the limit a claim gets at most an eighth of what is
 * left (at least 1), so allowance claimed but not spent on other replicas stays small.
 * Returns {granted, window ms left, requests claimed in the window so far}.
 */
const CLAIM_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = redis.call('PTTL', KEYS[1])
if left < 0 then used = 0 end
local remaining = math.max(0, tonumber(ARGV[2]) - used)
local grant = math.min(tonumber(ARGV[3]), remaining)
if grant > 1 then grant = math.min(grant, math.max(1, math.floor(remaining / 8))) end
if left < 0 then
  left = tonumber(ARGV[1])
  redis.call('SET', KEYS[1], grant, 'PX', left)
elseif grant > 0 then
  redis.call('INCRBY', KEYS[1], grant)
end
return {grant, left, used + grant}`;

const CLAIM_COMMAND = 'taskqRateLimitClaim';

type ClaimingRedis = RedisConnection & { [CLAIM_COMMAND](key: string, windowMs: number, limit: number, want: number): Promise<[number, number, number]> };

export interface RateLimitOptions {
  /** Requests per key per window, across every replica. */
  limit: number;
  windowMs: number;
  /** Most requests a replica claims from Redis in one round trip (0: a hundredth of the limit, 1 to 1,000). */
  claimSize?: number;
  /** Redis key prefix (the deployment's QUEUE_PREFIX). */
  prefix: string;
  now?: () => number;
}

/** The answer for one request, with what the X-RateLimit-* headers say. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** This replica's estimate: the key's requests left in the window. */
  remaining: number;
  /** Seconds until the window ends (Retry-After when refused). */
  resetSeconds: number;
}

/** One key's allowance on this replica, for the window Redis has open. */
interface Allowance {
  /** Claimed from Redis and not yet spent. */
  tokens: number;
  /** Local time at which the window ends (measured from when the claim was sent: never late). */
  windowEnd: number;
  /** Requests the key had claimed in the window, all replicas together, at the last claim. */
  claimed: number;
  /** Redis granted nothing: the key is refused here until windowEnd, without asking again. */
  exhausted: boolean;
  /** The claim in flight, which concurrent requests of the key wait for. */
  claiming?: Promise<void>;
}

/**
 * Per-key rate limits across API replicas, without a Redis round trip per request. Fixed
 * windows: a key's window opens with its first request and lasts `windowMs`. Each replica
 * claims allowance from the key's counter in Redis in chunks of up to `claimSize` requests
 * and spends it locally; a claim never takes more than the window has left, so all replicas
 * together never admit more than `limit` requests per window. The cost is the other way: a
 * key may be refused on one replica while other replicas still hold allowance they claimed
 * but have not spent — at most (replicas − 1) × claimSize requests, and less near the limit,
 * where claims shrink to an eighth of what is left. While Redis does not answer, requests are
 * let through (logged once a minute): submissions get their own 503 then.
 */
export class RateLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly logUnenforced = throttledLog((message) => this.logger.warn(message));
  private readonly allowances = new Map<string, Allowance>();
  private readonly claimSize: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RateLimitOptions,
  ) {
    this.claimSize = options.claimSize && options.claimSize > 0 ? options.claimSize : Math.min(1_000, Math.max(1, Math.floor(options.limit / 100)));
    this.now = options.now ?? Date.now;
    redis.defineCommand(CLAIM_COMMAND, { numberOfKeys: 1, lua: CLAIM_SCRIPT });
  }

  /** Counts one request of `key`: a decision at once while this replica holds allowance, else after one claim. */
  take(key: string): RateLimitDecision | Promise<RateLimitDecision> {
    return this.decide(key) ?? this.claimThenTake(key);
  }

  /** The decision this replica can make alone, or undefined when it must claim first. */
  private decide(key: string): RateLimitDecision | undefined {
    const now = this.now();
    const allowance = this.allowances.get(key);
    if (!allowance) return undefined;
    if (now >= allowance.windowEnd) {
      // The window is over: whatever was left of it is void.
      if (allowance.claiming) return undefined;
      this.allowances.delete(key);
      return undefined;
    }
    const resetSeconds = Math.max(1, Math.ceil((allowance.windowEnd - now) / 1_000));
    if (allowance.tokens > 0) {
      allowance.tokens -= 1;
      return { allowed: true, limit: this.options.limit, remaining: Math.max(0, this.options.limit - allowance.claimed + allowance.tokens), resetSeconds };
    }
    if (allowance.exhausted) return { allowed: false, limit: this.options.limit, remaining: 0, resetSeconds };
    return undefined;
  }

  private async claimThenTake(key: string): Promise<RateLimitDecision> {
    // Several requests of a key may arrive while its claim is in flight: each waits for it, then
    // takes from it; those left without allowance claim again, until Redis grants none.
    for (;;) {
      const decision = this.decide(key);
      if (decision) return decision;
      const outcome = await this.claim(key);
      if (outcome === 'unenforced') return { allowed: true, limit: this.options.limit, remaining: this.options.limit, resetSeconds: Math.ceil(this.options.windowMs / 1_000) };
    }
  }

  private async claim(key: string): Promise<'claimed' | 'unenforced'> {
    const pending = this.allowances.get(key)?.claiming;
    if (pending) {
      await pending;
      return 'claimed';
    }
    const sentAt = this.now();
    let unenforced = false;
    const redis = this.redis as ClaimingRedis;
    const claiming = redis[CLAIM_COMMAND](`${this.options.prefix}:rate:{${key}}`, this.options.windowMs, this.options.limit, this.claimSize)
      .then(([granted, windowLeftMs, claimed]) => {
        // Only a replica without allowance claims, so the grant is all it holds now.
        this.allowances.set(key, { tokens: granted, windowEnd: sentAt + windowLeftMs, claimed, exhausted: granted === 0 });
      })
      .catch((error: Error) => {
        this.allowances.delete(key);
        unenforced = true;
        this.logUnenforced(`rate limits are not enforced while Redis does not answer: ${error.message}`);
      });
    const current = this.allowances.get(key);
    if (current) current.claiming = claiming;
    else this.allowances.set(key, { tokens: 0, windowEnd: Number.POSITIVE_INFINITY, claimed: 0, exhausted: false, claiming });
    this.forgetEndedWindows(sentAt);
    await claiming;
    return unenforced ? 'unenforced' : 'claimed';
  }

  /** Keeps the map to the keys seen in their current window. */
  private forgetEndedWindows(now: number): void {
    if (this.allowances.size < 10_000) return;
    for (const [key, allowance] of this.allowances) if (!allowance.claiming && allowance.windowEnd <= now) this.allowances.delete(key);
  }
}
