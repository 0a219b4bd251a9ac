"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.computeBackoffDelay = computeBackoffDelay;
exports.exponentialBackoff = exponentialBackoff;
/**
 * Delay before retry number `retry` (1 = first retry).
 * `random` is injectable so tests can pin the jitter.
 */
function computeBackoffDelay(policy, retry, random = Math.random) {
    const base = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.max(0, retry - 1);
    const capped = Math.min(base, policy.maxDelayMs);
    return policy.jitter === 'full' ? Math.round(random() * capped) : Math.round(capped);
}
/** Exponential backoff from `delayMs`, capped at `maxDelayMs`, with full jitter: the task types' default. */
function exponentialBackoff(delayMs, maxDelayMs) {
    return { type: 'exponential', delayMs, maxDelayMs, jitter: 'full' };
}
//# sourceMappingURL=backoff-policy.js.map