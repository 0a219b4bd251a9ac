/**
 * Wraps a log call so that the same line is written at most once per `intervalMs`, naming
 * how many repeats it held back; a different line is written at once. For errors repeated on
 * every reconnection attempt (a BullMQ worker or event reader while Redis is away) that would
 * otherwise flood the logs.
 */
export function throttledLog(write: (message: string) => void, intervalMs = 60_000, now: () => number = Date.now): (message: string) => void {
  // The line is its own key, and only the last one is remembered.
  const log = keyedThrottledLog(write, intervalMs, 1, now);
  return (message) => log(message, message);
}

/**
 * Throttling per key: the lines of one key (one kind of failure, whichever request met it) are
 * written at most once per `intervalMs`, the next one naming how many were held back; keys do
 * not hold each other back. Remembers the last `maxKeys` keys.
 */
export function keyedThrottledLog(
  write: (message: string) => void,
  intervalMs = 60_000,
  maxKeys = 100,
  now: () => number = Date.now,
): (key: string, message: string) => void {
  const seen = new Map<string, { at: number; held: number }>();
  return (key, message) => {
    const at = now();
    const last = seen.get(key);
    if (last && at - last.at < intervalMs) {
      last.held += 1;
      return;
    }
    const sinceS = last ? Math.round((at - last.at) / 1000) : 0;
    write(last && last.held > 0 ? `${message} (${last.held} repeat(s) held back in the last ${sinceS} s)` : message);
    seen.delete(key);
    seen.set(key, { at, held: 0 });
    if (seen.size > maxKeys) seen.delete(seen.keys().next().value as string);
  };
}
