export type BackoffType = 'exponential' | 'fixed';
export type BackoffJitter = 'full' | 'none';

/** How long to wait before the next attempt of a failed task. */
export interface BackoffPolicy {
  type: BackoffType;
  /** Base delay: the first retry waits up to this long. */
  delayMs: number;
  /** No wait is ever longer than this. */
  maxDelayMs: number;
  /** `full`: wait a uniformly random time in [0, computed delay] (AWS "full jitter"). */
  jitter: BackoffJitter;
}

/**
 * Delay before retry number `retry` (1 = first retry).
 * `random` is injectable so tests can pin the jitter.
 */
export function computeBackoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  return policy.jitter === 'full' ? Math.round(random() * capped) : Math.round(capped);
}

/** Exponential backoff from `delayMs`, capped at `maxDelayMs`, with full jitter: the task types' default. */
export function exponentialBackoff(delayMs: number, maxDelayMs: number): BackoffPolicy {
  return { type: 'exponential', delayMs, maxDelayMs, jitter: 'full' };
}
