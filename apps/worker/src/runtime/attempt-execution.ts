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

export type AttemptResult =
  | { kind: 'completed'; result: unknown }
  | { kind: 'failed'; error: string; permanent: boolean }
  | { kind: 'timed_out'; error: string }
  | { kind: 'cancelled'; error: string };

/**
 * Runs `work` with an AbortSignal that fires at the deadline, or when `cancel` fires. The
 * attempt ends then even if `work` ignores the signal: its late result is discarded.
 */
export async function executeWithDeadline(
  work: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<AttemptResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (error: Error): void => {
      controller.abort(error);
      reject(error);
    };
    timer = setTimeout(() => stop(new TaskTimeoutError(timeoutMs)), timeoutMs);
    onCancel = () => stop(new TaskCancelledError());
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener('abort', onCancel, { once: true });
  });
  try {
    const result = await Promise.race([work(controller.signal), stopped]);
    return { kind: 'completed', result: result ?? null };
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof TaskCancelledError) return { kind: 'cancelled', error: reason.message };
    if (reason instanceof TaskTimeoutError) return { kind: 'timed_out', error: reason.message };
    return { kind: 'failed', error: describeError(error), permanent: error instanceof PermanentTaskError };
  } finally {
    clearTimeout(timer);
    if (onCancel) cancel?.removeEventListener('abort', onCancel);
  }
}

/** A one-line, bounded error text for task_attempts.error. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
