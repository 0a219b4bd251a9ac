import { throttledLog } from './throttled-log';

describe(throttledLog.name, () => {
  it('writes a line once per interval, then names how many repeats it held back', () => {
    const lines: string[] = [];
    let clock = 1_000_000;
    const log = throttledLog((message) => lines.push(message), 60_000, () => clock);

    log('connect ECONNREFUSED');
    clock += 1_000;
    log('connect ECONNREFUSED');
    clock += 1_000;
    log('connect ECONNREFUSED');
    expect(lines).toEqual(['connect ECONNREFUSED']);

    clock += 60_000;
    log('connect ECONNREFUSED');
    expect(lines).toEqual(['connect ECONNREFUSED', 'connect ECONNREFUSED (2 repeat(s) held back in the last 62 s)']);
  });

  it('writes a different line at once', () => {
    const lines: string[] = [];
    const log = throttledLog((message) => lines.push(message), 60_000, () => 5);
    log('connect ECONNREFUSED');
    log('NOSCRIPT No matching script');
    log('connect ECONNREFUSED');
    expect(lines).toEqual(['connect ECONNREFUSED', 'NOSCRIPT No matching script', 'connect ECONNREFUSED']);
  });
});
