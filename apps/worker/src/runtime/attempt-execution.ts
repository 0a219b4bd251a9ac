import { PermanentTaskError } from '@taskq/contracts';

/** The attempt's deadline passed. */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/** The task was cancelled through the API while this attempt ran. */
export class TaskCancelledError extends Error {
  override readonly name = 'TaskCancelledError';
  constructor() {
    super('cancelled while running');
  }
}

/** The worker is shutting down and its deadline passed: the attempt goes back to the queue. */
export class TaskInterruptedError extends Error {
  override readonly name = 'TaskInterruptedError';
  constructor() {
    super('interrupted by worker shutdown');
  }
}

export type AttemptResult =
  | { kind: 'completed'; result: unknown }
  | { kind: 'failed'; error: string; permanent: boolean }
  | { kind: 'timed_out'; error: string }
  | { kind: 'cancelled'; error: string }
  | { kind: 'interrupted'; error: string };

/**
 * Runs `work` with an AbortSignal that fires at the deadline, or when `stop` fires (its
 * reason: a {@link TaskInterruptedError} for a shutdown, anything else means cancelled). The
 * attempt ends then even if `work` ignores the signal: its late result is discarded.
 */
export async function executeWithDeadline(
  work: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs: number,
  stop?: AbortSignal,
): Promise<AttemptResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const end = (error: Error): void => {
      controller.abort(error);
      reject(error);
    };
    timer = setTimeout(() => end(new TaskTimeoutError(timeoutMs)), timeoutMs);
    onStop = () => end(stop?.reason instanceof TaskInterruptedError ? stop.reason : new TaskCancelledError());
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
  });
  try {
    const result = await Promise.race([work(controller.signal), stopped]);
    return { kind: 'completed', result: result ?? null };
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof TaskCancelledError) return { kind: 'cancelled', error: reason.message };
    if (reason instanceof TaskInterruptedError) return { kind: 'interrupted', error: reason.message };
    if (reason instanceof TaskTimeoutError) return { kind: 'timed_out', error: reason.message };
    return { kind: 'failed', error: describeError(error), permanent: error instanceof PermanentTaskError };
  } finally {
    clearTimeout(timer);
    if (onStop) stop?.removeEventListener('abort', onStop);
  }
}

/** A one-line, bounded error text for task_attempts.error. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
