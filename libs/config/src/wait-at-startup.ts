import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitAtStartupOptions {
  /** Hears the first failure: say once what start-up is waiting for. */
  onWait?: (error: unknown) => void;
  /** Failures worth another try; others are thrown at once (default: all). */
  retryable?: (error: unknown) => boolean;
  pauseMs?: number;
}

/**
 * Start-up waits for a dependency: tries `attempt` (given the time left) until it succeeds or
 * `timeoutMs` has passed, then throws its last error. A service started alongside, or
 * restarting, answers a moment later; failing at once would make a crash loop of every
 * orchestrated restart.
 */
export async function waitAtStartup<T>(attempt: (remainingMs: number) => Promise<T>, timeoutMs: number, options: WaitAtStartupOptions = {}): Promise<T> {
  const pauseMs = options.pauseMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(Math.max(100, deadline - Date.now()));
    } catch (error) {
      if (!(options.retryable?.(error) ?? true) || Date.now() + pauseMs >= deadline) throw error;
      if (tries === 0) options.onWait?.(error);
      await sleep(pauseMs);
    }
  }
}
