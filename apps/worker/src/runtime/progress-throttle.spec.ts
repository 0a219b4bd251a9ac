import { ProgressThrottle } from './progress-throttle';

describe(ProgressThrottle.name, () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
  });
  afterEach(() => jest.useRealTimers());

  function throttle(): { sut: ProgressThrottle<number>; written: number[]; times: number[] } {
    const written: number[] = [];
    const times: number[] = [];
    const sut = new ProgressThrottle<number>(async (value) => {
      written.push(value);
      times.push(clock);
    }, 250, now);
    return { sut, written, times };
  }

  async function advance(ms: number): Promise<void> {
    clock += ms;
    await jest.advanceTimersByTimeAsync(ms);
  }

  it('writes the first report at once and then at most one per interval, and the last value lands', async () => {
    const { sut, written, times } = throttle();
    sut.report(1);
    await advance(0);
    expect(written).toEqual([1]);
    for (let value = 2; value <= 50; value++) {
      sut.report(value);
      await advance(10);
    }
    // 490 ms of reports every 10 ms: the first at once, then one per 250 ms.
    expect(written.length).toBeLessThanOrEqual(3);
    times.slice(1).forEach((time, index) => expect(time - (times[index] as number)).toBeGreaterThanOrEqual(250));
    await advance(250);
    expect(written[written.length - 1]).toBe(50);
    expect(written).toEqual([...written].sort((a, b) => a - b));
  });

  it('settle writes the last pending value at once', async () => {
    const { sut, written } = throttle();
    sut.report(10);
    await advance(0);
    sut.report(99);
    sut.report(100);
    await sut.settle();
    expect(written).toEqual([10, 100]);
  });

  it('settle waits for a write in flight and leaves nothing behind', async () => {
    const written: number[] = [];
    let release: () => void = () => undefined;
    const sut = new ProgressThrottle<number>(
      (value) =>
        new Promise<void>((resolve) => {
          release = () => {
            written.push(value);
            resolve();
          };
        }),
      250,
      now,
    );
    sut.report(1);
    sut.report(2);
    const settled = sut.settle();
    release();
    await advance(0);
    release();
    await settled;
    expect(written).toEqual([1, 2]);
  });
});
