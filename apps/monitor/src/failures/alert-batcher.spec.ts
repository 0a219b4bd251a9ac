import fc from 'fast-check';
import { AlertBatcher, type AlertBatch, type AlertBatcherOptions } from './alert-batcher';

const OPTIONS: AlertBatcherOptions<string> = { intervalMs: 10_000, capacity: 100, gatherMs: 1_000, maxRetryDelayMs: 60_000 };

/** A receiver that records every delivery attempt and answers as told. */
function receiver(answers: Array<'ok' | 'fail'> = []) {
  const attempts: Array<{ at: number; batch: AlertBatch<string> }> = [];
  const deliver = async (batch: AlertBatch<string>): Promise<void> => {
    attempts.push({ at: Date.now(), batch: { entries: [...batch.entries], dropped: batch.dropped } });
    if ((answers.shift() ?? 'ok') === 'fail') throw new Error('answered 500');
  };
  return { attempts, deliver };
}

describe(AlertBatcher.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('sends the first entry after a quiet period once the gather time has passed, with what came along', async () => {
    const { attempts, deliver } = receiver();
    const sut = new AlertBatcher(deliver, OPTIONS);
    const start = Date.now();
    sut.add('a');
    await jest.advanceTimersByTimeAsync(500);
    sut.add('b');
    await jest.advanceTimersByTimeAsync(499);
    expect(attempts).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([{ at: start + 1_000, batch: { entries: ['a', 'b'], dropped: 0 } }]);
  });

  it('holds later entries until the interval since the last request has passed', async () => {
    const { attempts, deliver } = receiver();
    const sut = new AlertBatcher(deliver, OPTIONS);
    sut.add('a');
    await jest.advanceTimersByTimeAsync(1_000);
    sut.add('b');
    await jest.advanceTimersByTimeAsync(3_000);
    sut.add('c');
    await jest.advanceTimersByTimeAsync(6_999);
    expect(attempts).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempts.map((a) => a.batch.entries)).toEqual([['a'], ['b', 'c']]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBe(OPTIONS.intervalMs);
  });

  it('retries a failed batch after the interval, then after twice the interval, keeping new entries with it', async () => {
    const { attempts, deliver } = receiver(['fail', 'fail', 'ok']);
    const failures: number[] = [];
    const sut = new AlertBatcher(deliver, OPTIONS, { failed: (_error, _batch, retryInMs) => failures.push(retryInMs) });
    sut.add('a');
    await jest.advanceTimersByTimeAsync(1_000);
    sut.add('b');
    await jest.advanceTimersByTimeAsync(30_000);
    expect(attempts.map((a) => a.at - (attempts[0]?.at ?? 0))).toEqual([0, 10_000, 30_000]);
    expect(attempts.map((a) => a.batch.entries)).toEqual([['a'], ['a', 'b'], ['a', 'b']]);
    expect(failures).toEqual([10_000, 20_000]);
    expect(sut.undelivered()).toEqual([]);
  });

  it('drops the oldest entries beyond its capacity and reports how many', async () => {
    const { attempts, deliver } = receiver();
    const sut = new AlertBatcher(deliver, { ...OPTIONS, capacity: 3 });
    for (const entry of ['a', 'b', 'c', 'd', 'e']) sut.add(entry);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(attempts.map((a) => a.batch)).toEqual([{ entries: ['c', 'd', 'e'], dropped: 2 }]);
    sut.add('f');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(attempts[1]?.batch).toEqual({ entries: ['f'], dropped: 0 });
  });

  it('on close, makes a last delivery when the interval allows it before the deadline', async () => {
    const { attempts, deliver } = receiver();
    const sut = new AlertBatcher(deliver, OPTIONS);
    sut.add('a');
    await jest.advanceTimersByTimeAsync(1_000);
    sut.add('b');
    const closing = sut.close(Date.now() + 15_000);
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(closing).resolves.toEqual({ entries: [], dropped: 0 });
    expect(attempts.map((a) => a.batch.entries)).toEqual([['a'], ['b']]);
  });

  it('on close, returns what it could not deliver before the deadline', async () => {
    const { attempts, deliver } = receiver();
    const sut = new AlertBatcher(deliver, OPTIONS);
    sut.add('a');
    await jest.advanceTimersByTimeAsync(1_000);
    sut.add('b');
    const closing = sut.close(Date.now() + 5_000);
    await jest.advanceTimersByTimeAsync(5_000);
    await expect(closing).resolves.toEqual({ entries: ['b'], dropped: 0 });
    expect(attempts).toHaveLength(1);
  });

  it('waits while another process holds the shared slot, then sends everything at once', async () => {
    const { attempts, deliver } = receiver();
    let slotFreeAt = Date.now() + 4_000;
    const reserveSlot = async (): Promise<number> => {
      if (Date.now() < slotFreeAt) return slotFreeAt - Date.now();
      slotFreeAt = Date.now() + OPTIONS.intervalMs;
      return 0;
    };
    const sut = new AlertBatcher(deliver, { ...OPTIONS, reserveSlot });
    const start = Date.now();
    sut.add('a');
    await jest.advanceTimersByTimeAsync(2_000);
    sut.add('b');
    await jest.advanceTimersByTimeAsync(2_000);
    expect(attempts).toEqual([{ at: start + 4_000, batch: { entries: ['a', 'b'], dropped: 0 } }]);
  });

  it('counts the batch in flight as undelivered until its request succeeds', async () => {
    let answer: (() => void) | undefined;
    const sut = new AlertBatcher<string>(() => new Promise<void>((resolve) => (answer = resolve)), OPTIONS);
    sut.add('a');
    await jest.advanceTimersByTimeAsync(1_000);
    sut.add('b');
    expect(sut.undelivered()).toEqual(['a', 'b']);
    answer?.();
    await jest.advanceTimersByTimeAsync(0);
    expect(sut.undelivered()).toEqual(['b']);
  });

  it('leaves out the entries another process delivered, and makes no attempt when none is left', async () => {
    const { attempts, deliver } = receiver();
    const delivered = new Set(['a', 'c']);
    const sut = new AlertBatcher(deliver, { ...OPTIONS, stillWanted: async (entries) => entries.filter((entry) => !delivered.has(entry)) });
    for (const entry of ['a', 'b', 'c']) sut.add(entry);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(attempts.map((a) => a.batch)).toEqual([{ entries: ['b'], dropped: 0 }]);
    delivered.add('d');
    sut.add('d');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(attempts).toHaveLength(1);
    expect(sut.undelivered()).toEqual([]);
    // No attempt was made: the next entry goes out once the gather time has passed.
    sut.add('e');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(attempts.map((a) => a.batch.entries)).toEqual([['b'], ['e']]);
  });

  it('never starts two delivery attempts within the interval and loses nothing it delivered, whatever the arrivals and failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.constantFrom<'ok' | 'fail'>('ok', 'fail'), { maxLength: 10 }),
        async (gaps, answers) => {
          const { attempts, deliver } = receiver([...answers]);
          const sut = new AlertBatcher(deliver, OPTIONS);
          const added: string[] = [];
          for (const [index, gap] of gaps.entries()) {
            await jest.advanceTimersByTimeAsync(gap);
            added.push(`e${index}`);
            sut.add(`e${index}`);
          }
          await jest.advanceTimersByTimeAsync(10 * 60_000);
          for (let i = 1; i < attempts.length; i++) {
            expect((attempts[i]?.at ?? 0) - (attempts[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(OPTIONS.intervalMs);
          }
          // Failed attempts are resent: the delivered batches hold every entry, once, in order.
          const delivered = attempts.filter((_, i) => (answers[i] ?? 'ok') === 'ok').flatMap((a) => a.batch.entries);
          expect(delivered).toEqual(added);
          expect(sut.undelivered()).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });
});
