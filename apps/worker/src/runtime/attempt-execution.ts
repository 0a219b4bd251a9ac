import { PermanentTaskError } from '@taskq/contracts';

/** The attempt's deadline passed. */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

export type AttemptResult =
  | { kind: 'completed'; result: unknown }
  | { kind: 'failed'; error: string; permanent: boolean }
  | { kind: 'timed_out'; error: string };

/**
 * Runs `work` with an AbortSignal that fires at the deadline. The attempt ends at the
 * deadline even if `work` ignores the signal: its late result is discarded.
 */
export async function executeWithDeadline(work: (signal: AbortSignal) => Promise<unknown>, timeoutMs: number): Promise<AttemptResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TaskTimeoutError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([work(controller.signal), deadline]);
    return { kind: 'completed', result: result ?? null };
  } catch (error) {
    if (error instanceof TaskTimeoutError || controller.signal.reason instanceof TaskTimeoutError) {
      return { kind: 'timed_out', error: new TaskTimeoutError(timeoutMs).message };
    }
    return { kind: 'failed', error: describeError(error), permanent: error instanceof PermanentTaskError };
  } finally {
    clearTimeout(timer);
  }
}

/** A one-line, bounded error text for task_attempts.error. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
