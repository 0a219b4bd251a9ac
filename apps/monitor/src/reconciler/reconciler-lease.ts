import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '@taskq/queue';

/**
 * WARNING: stored in Redis. The key of the lease that lets one monitor replica at a time
 * reconcile; renaming it lets replicas of two versions run at once (harmless, but doubled work).
 */
const reconcilerLeaseKey = (prefix: string): string => `${prefix}:{monitor}:reconciler-lease`;

// Sets a new expiry only while the key still holds our token.
const EXTEND_IF_OURS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A lease in one Redis key (`SET NX PX`, value: this holder's token). Whoever holds it runs
 * the reconciler; it expires by itself if its holder dies. Losing Redis's data frees it too,
 * so the next replica to try after a Redis restart takes it.
 */
export class ReconcilerLease {
  private readonly key: string;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    private readonly token = randomUUID(),
  ) {
    this.key = reconcilerLeaseKey(prefix);
  }

  /** Takes the lease for `ttlMs` if nobody holds it. */
  async acquire(ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key, this.token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Holds it `ttlMs` from now; false when it is no longer ours (expired, taken, or lost with Redis's data). */
  async extend(ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXTEND_IF_OURS, 1, this.key, this.token, String(ttlMs))) === 1;
  }
}
