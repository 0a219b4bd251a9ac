import { BatchWriter } from './batch-writer';

describe(BatchWriter.name, () => {
  it('flushes a lone write at once and groups writes that arrive while a flush is in flight', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sut = new BatchWriter<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items.map((item) => item * 10);
      },
      { maxBatchSize: 100, maxConcurrentFlushes: 1 },
    );
    const first = sut.write(1);
    const rest = [2, 3, 4].map((n) => sut.write(n));
    expect(batches).toEqual([[1]]);
    release();
    await expect(first).resolves.toBe(10);
    await expect(Promise.all(rest)).resolves.toEqual([20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('caps the batch size', async () => {
    const sizes: number[] = [];
    const sut = new BatchWriter<number, void>(async (items) => items.map(() => undefined), { maxBatchSize: 2, maxConcurrentFlushes: 1, onFlush: (n) => sizes.push(n) });
    await Promise.all([1, 2, 3, 4, 5].map((n) => sut.write(n)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('rejects every write of a failed batch and keeps working afterwards', async () => {
    let fail = true;
    const sut = new BatchWriter<number, number>(
      async (items) => {
        if (fail) throw new Error('database down');
        return items;
      },
      { maxBatchSize: 10, maxConcurrentFlushes: 1 },
    );
    await expect(sut.write(1)).rejects.toThrow('database down');
    fail = false;
    await expect(sut.write(2)).resolves.toBe(2);
  });

  it('drain waits for pending writes', async () => {
    const written: number[] = [];
    const sut = new BatchWriter<number, void>(
      async (items) => {
        await new Promise((resolve) => setImmediate(resolve));
        written.push(...items);
        return items.map(() => undefined);
      },
      { maxBatchSize: 10, maxConcurrentFlushes: 2 },
    );
    void sut.write(1);
    void sut.write(2);
    await sut.drain();
    expect(written.sort()).toEqual([1, 2]);
  });

  it('flushes the first write after a quiet spell at once, never delays a write that finds a flush in flight, and lets a write that finds it idle after recent work wait lingerMs for company', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sut = new BatchWriter<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items;
      },
      { maxBatchSize: 100, maxConcurrentFlushes: 1, lingerMs: 30 },
    );
    const quiet = sut.write(0);
    expect(batches).toEqual([[0]]);
    const behind = [1, 2].map((n) => sut.write(n));
    release();
    await expect(Promise.all([quiet, ...behind])).resolves.toEqual([0, 1, 2]);
    expect(batches).toEqual([[0], [1, 2]]);

    // Busy a moment ago with small batches, idle now: these linger together.
    const recent = [3, 4, 5, 6].map((n) => sut.write(n));
    expect(batches).toHaveLength(2);
    await expect(Promise.all(recent)).resolves.toEqual([3, 4, 5, 6]);
    expect(batches).toEqual([[0], [1, 2], [3, 4, 5, 6]]);

    // After a batch of LINGER_BELOW or more (load), a write goes at once.
    const next = sut.write(7);
    expect(batches).toHaveLength(4);
    await expect(next).resolves.toBe(7);
  });

  it('does not linger once a batch is full', async () => {
    const batches: number[][] = [];
    const sut = new BatchWriter<number, number>(async (items) => (batches.push(items), items), { maxBatchSize: 2, maxConcurrentFlushes: 1, lingerMs: 60_000 });
    await sut.write(0);
    await expect(Promise.all([sut.write(1), sut.write(2)])).resolves.toEqual([1, 2]);
    expect(batches).toEqual([[0], [1, 2]]);
  });
});

