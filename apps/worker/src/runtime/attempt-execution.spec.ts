import { PermanentTaskError } from '@taskq/contracts';
import { TaskCancelledError, TaskInterruptedError, TaskTimeoutError, describeError, executeWithDeadline } from './attempt-execution';

const sut = executeWithDeadline;

/** A promise that settles only when the test says so (no timers involved). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe(executeWithDeadline.name, () => {
  it('completes with the handler result', async () => {
    await expect(sut(async () => ({ sent: 3 }), 1_000)).resolves.toEqual({ kind: 'completed', result: { sent: 3 } });
  });

  it('stores an undefined result as null', async () => {
    await expect(sut(async () => undefined, 1_000)).resolves.toEqual({ kind: 'completed', result: null });
  });

  it('passes the handler a signal that is not aborted while it runs in time', async () => {
    let seen: AbortSignal | undefined;
    await sut(async (signal) => {
      seen = signal;
      return null;
    }, 1_000);

    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen?.aborted).toBe(false);
  });

  it('turns a handler error into a retryable failure with its message', async () => {
    await expect(sut(async () => Promise.reject(new Error('connection reset')), 1_000)).resolves.toEqual({
      kind: 'failed',
      error: 'connection reset',
      permanent: false,
    });
  });

  it('names errors of other classes and keeps non-Error rejections as text', async () => {
    await expect(sut(async () => Promise.reject(new TypeError('x is not a function')), 1_000)).resolves.toMatchObject({
      kind: 'failed',
      error: 'TypeError: x is not a function',
    });
    await expect(sut(() => Promise.reject('plain string'), 1_000)).resolves.toMatchObject({ kind: 'failed', error: 'plain string', permanent: false });
  });

  it('catches a handler that throws synchronously', async () => {
    const work = (): Promise<unknown> => {
      throw new Error('sync boom');
    };
    await expect(sut(work, 1_000)).resolves.toEqual({ kind: 'failed', error: 'sync boom', permanent: false });
  });

  it('marks a PermanentTaskError as permanent', async () => {
    await expect(sut(async () => Promise.reject(new PermanentTaskError('404 from target')), 1_000)).resolves.toEqual({
      kind: 'failed',
      error: 'PermanentTaskError: 404 from target',
      permanent: true,
    });
  });

  it('ends a handler that ignores the signal as timed_out at the deadline and aborts the signal', async () => {
    const never = deferred<string>();
    let seen: AbortSignal | undefined;
    const started = Date.now();

    const outcome = await sut((signal) => {
      seen = signal;
      return never.promise;
    }, 150);
    const elapsed = Date.now() - started;

    expect(outcome).toEqual({ kind: 'timed_out', error: 'timed out after 150 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2_000);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(TaskTimeoutError);

    // Its late result changes nothing.
    never.resolve('late');
    await expect(never.promise).resolves.toBe('late');
  });

  it('reports a handler that rejects with the abort reason as timed_out, not failed', async () => {
    const outcome = await sut(
      (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      50,
    );

    expect(outcome).toEqual({ kind: 'timed_out', error: 'timed out after 50 ms' });
  });

  it('reports a handler that rejects with its own AbortError when aborted as timed_out', async () => {
    const { setTimeout: sleep } = await import('node:timers/promises');

    const outcome = await sut((signal) => sleep(60_000, undefined, { signal }), 50);

    expect(outcome).toEqual({ kind: 'timed_out', error: 'timed out after 50 ms' });
  });

  it('ends the attempt as cancelled when the cancel signal fires, aborting the handler signal', async () => {
    const cancel = new AbortController();
    let seen: AbortSignal | undefined;

    const outcome = sut(
      (signal) => {
        seen = signal;
        queueMicrotask(() => cancel.abort());
        return deferred<never>().promise;
      },
      30_000,
      cancel.signal,
    );

    await expect(outcome).resolves.toEqual({ kind: 'cancelled', error: 'cancelled while running' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(TaskCancelledError);
  });

  it('does not wait for the handler when the task was cancelled before the attempt began', async () => {
    const cancel = new AbortController();
    cancel.abort();

    await expect(sut(() => deferred<never>().promise, 30_000, cancel.signal)).resolves.toEqual({ kind: 'cancelled', error: 'cancelled while running' });
  });

  it('ends the attempt as interrupted when the stop signal carries a shutdown interruption', async () => {
    const stop = new AbortController();
    let seen: AbortSignal | undefined;

    const outcome = sut(
      (signal) => {
        seen = signal;
        queueMicrotask(() => stop.abort(new TaskInterruptedError()));
        return deferred<never>().promise;
      },
      30_000,
      stop.signal,
    );

    await expect(outcome).resolves.toEqual({ kind: 'interrupted', error: 'interrupted by worker shutdown' });
    expect(seen?.reason).toBeInstanceOf(TaskInterruptedError);
  });

  it('leaves no deadline timer behind once the attempt is over', async () => {
    jest.useFakeTimers();
    try {
      const pending = sut(async () => 'done', 30_000);
      await expect(pending).resolves.toEqual({ kind: 'completed', result: 'done' });
      expect(jest.getTimerCount()).toBe(0);

      const failing = sut(async () => Promise.reject(new Error('nope')), 30_000);
      await expect(failing).resolves.toMatchObject({ kind: 'failed' });
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe(describeError.name, () => {
  it('bounds the stored error text', () => {
    const text = describeError(new Error('x'.repeat(5_000)));

    expect(text).toHaveLength(2_001);
    expect(text.endsWith('…')).toBe(true);
  });
});
