export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown when the deadline passes. */
  description?: string;
}

/**
 * Polls `probe` until it returns something other than undefined/false, or throws at the
 * deadline with the last probe error. Tests wait with this, never with fixed sleeps.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitForOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms (${options.description ?? 'condition'})${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
