import { StoreUnavailableError, writeWhenStored } from './write-when-stored';

const outage = (): Error => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const isOutage = (error: unknown): boolean => (error as { code?: string }).code === 'ECONNREFUSED';

describe(writeWhenStored.name, () => {
  it('waits out an outage however many tries it takes', async () => {
    let calls = 0;
    const retries: number[] = [];
    const sut = await writeWhenStored(
      async () => {
        if (++calls < 8) throw outage();
        return 'written';
      },
      { isOutage, stopping: new AbortController().signal, onRetry: (_error, delayMs) => retries.push(delayMs), delaysMs: [1, 2] },
    );

    expect(sut).toBe('written');
    expect(retries).toEqual([1, 2, 2, 2, 2, 2, 2]);
  });

  it('gives up on any other error after a few tries', async () => {
    let calls = 0;
    const sut = writeWhenStored(
      async () => {
        calls++;
        throw new Error(`bug ${calls}`);
      },
      { isOutage, stopping: new AbortController().signal, onRetry: () => undefined, delaysMs: [1], otherErrorTries: 3 },
    );

    await expect(sut).rejects.toThrow('bug 3');
  });

  it('once the worker is stopping, keeps trying for the grace period only', async () => {
    const stop = new AbortController();
    let calls = 0;
    const sut = writeWhenStored(
      async () => {
        if (++calls === 3) stop.abort();
        throw outage();
      },
      { isOutage, stopping: stop.signal, onRetry: () => undefined, delaysMs: [5], graceMs: 50 },
    );

    await expect(sut).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls).toBeGreaterThan(3);
    expect(calls).toBeLessThan(30);
  });
});
