import { keyedThrottledLog, throttledLog } from './throttled-log';

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

describe(keyedThrottledLog.name, () => {
  it('throttles each key on its own, whatever the lines of a key say', () => {
    const lines: string[] = [];
    let clock = 1_000_000;
    const log = keyedThrottledLog((message) => lines.push(message), 60_000, 2, () => clock);

    log('postgres', 'POST /tasks answered 503: connect ECONNREFUSED');
    log('postgres', 'GET /tasks answered 503: connect ECONNREFUSED');
    log('redis', 'POST /tasks answered 503: Connection is closed');
    clock += 61_000;
    log('postgres', 'GET /dlq answered 503: connect ECONNREFUSED');

    expect(lines).toEqual([
      'POST /tasks answered 503: connect ECONNREFUSED',
      'POST /tasks answered 503: Connection is closed',
      'GET /dlq answered 503: connect ECONNREFUSED (1 repeat(s) held back in the last 61 s)',
    ]);
  });

  it('forgets the oldest key beyond its limit', () => {
    const lines: string[] = [];
    const log = keyedThrottledLog((message) => lines.push(message), 60_000, 2, () => 5);
    log('a', 'a');
    log('b', 'b');
    log('c', 'c');
    log('a', 'a again');
    log('c', 'c again');
    expect(lines).toEqual(['a', 'b', 'c', 'a again']);
  });
});
