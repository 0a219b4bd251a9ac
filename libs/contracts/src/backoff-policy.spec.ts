import { computeBackoffDelay, type BackoffPolicy } from './backoff-policy';

const exponential: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 'none' };

describe('computeBackoffDelay', () => {
  it('doubles the delay for each retry up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => computeBackoffDelay(exponential, retry))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('keeps a fixed delay fixed', () => {
    const fixed: BackoffPolicy = { ...exponential, type: 'fixed' };
    expect([1, 2, 3].map((retry) => computeBackoffDelay(fixed, retry))).toEqual([100, 100, 100]);
  });

  it('draws full jitter uniformly between zero and the computed delay', () => {
    const jittered: BackoffPolicy = { ...exponential, jitter: 'full' };
    expect(computeBackoffDelay(jittered, 3, () => 0)).toBe(0);
    expect(computeBackoffDelay(jittered, 3, () => 0.5)).toBe(200);
    expect(computeBackoffDelay(jittered, 3, () => 0.999_999)).toBe(400);
  });
});
