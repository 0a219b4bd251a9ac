import { retryStoreWrite } from './retry-store-write';

describe('retryStoreWrite', () => {
  it('rides out transient failures', async () => {
    let calls = 0;
    const retries: number[] = [];
    const sut = await retryStoreWrite(
      async () => {
        calls++;
        if (calls < 3) throw new Error('connection terminated');
        return 'written';
      },
      (_error, delayMs) => retries.push(delayMs),
      [1, 2, 3],
    );
    expect(sut).toBe('written');
    expect(retries).toEqual([1, 2]);
  });

  it('gives up with the last error once the delays are spent', async () => {
    let calls = 0;
    const sut = retryStoreWrite(
      async () => {
        calls++;
        throw new Error(`down ${calls}`);
      },
      () => undefined,
      [1, 1],
    );
    await expect(sut).rejects.toThrow('down 3');
  });
});
