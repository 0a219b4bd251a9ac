import { setTimeout as sleep } from 'node:timers/promises';

/** Pauses between tries of a PostgreSQL write: rides out a failover or a short outage (~10 s). */
export const STORE_RETRY_DELAYS_MS = [100, 300, 1_000, 3_000, 5_000];

/**
 * Retries a store write before giving up. Giving up fails the attempt in BullMQ, which then
 * runs the task again later: at-least-once holds, but a short PostgreSQL blip should not
 * cost an attempt or repeat a side effect.
 */
export async function retryStoreWrite<T>(write: () => Promise<T>, onRetry: (error: unknown, delayMs: number) => void, delaysMs = STORE_RETRY_DELAYS_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const delayMs = delaysMs[attempt];
      if (delayMs === undefined) throw error;
      onRetry(error, delayMs);
      await sleep(delayMs);
    }
  }
}
