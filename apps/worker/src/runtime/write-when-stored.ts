import { setTimeout as sleep } from 'node:timers/promises';

/** PostgreSQL did not take the write before the worker had to stop. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(readonly lastError: unknown) {
    super(`PostgreSQL did not take the write before the worker stopped: ${(lastError as Error)?.message ?? String(lastError)}`);
  }
}

export interface WriteWhenStoredOptions {
  /** True for errors that mean "PostgreSQL is away" (retried for as long as it takes). */
  isOutage: (error: unknown) => boolean;
  /** Fires at the worker's shutdown deadline: from then on, waiting is bounded by `graceMs`. */
  stopping: AbortSignal;
  onRetry: (error: unknown, delayMs: number) => void;
  /** Pauses between tries; the last one repeats. */
  delaysMs?: readonly number[];
  /** How long a write still tries once the worker is stopping. */
  graceMs?: number;
  /** Tries for any other error (a bug, a constraint) before it is thrown. */
  otherErrorTries?: number;
}

export const STORE_RETRY_DELAYS_MS: readonly number[] = [100, 250, 500, 1_000, 2_000, 5_000];

/** Once the worker is stopping (its shutdown deadline passed), writes keep trying this long. */
export const STOPPING_GRACE_MS = 5_000;

/**
 * Retries a PostgreSQL write until it goes through (`write` hears whether this is a retry). An outage of any length is waited out
 * (the caller keeps its job's lock meanwhile: BullMQ renews it), so a run's outcome is
 * committed late rather than spent or lost. Once the worker is stopping, it tries for
 * `graceMs` more and then throws a {@link StoreUnavailableError}: the caller hands its job back
 * to the queue with what it still owes. Any other error is tried a few times and then thrown.
 */
export async function writeWhenStored<T>(write: (retry: boolean) => Promise<T>, options: WriteWhenStoredOptions): Promise<T> {
  const delays = options.delaysMs ?? STORE_RETRY_DELAYS_MS;
  const graceMs = options.graceMs ?? STOPPING_GRACE_MS;
  const otherErrorTries = options.otherErrorTries ?? 5;
  let otherErrors = 0;
  let giveUpAt: number | undefined;
  for (let tries = 0; ; tries++) {
    try {
      return await write(tries > 0);
    } catch (error) {
      if (!options.isOutage(error) && ++otherErrors >= otherErrorTries) throw error;
      if (options.stopping.aborted) {
        giveUpAt ??= Date.now() + graceMs;
        if (Date.now() >= giveUpAt) throw new StoreUnavailableError(error);
      }
      const delayMs = delays[Math.min(tries, delays.length - 1)] ?? 1_000;
      options.onRetry(error, delayMs);
      // Woken early by the stop, so the grace is counted from it.
      if (options.stopping.aborted) await sleep(delayMs);
      else await sleep(delayMs, undefined, { signal: options.stopping }).catch(() => undefined);
    }
  }
}
