import { TASK_TYPE_NAMES } from '@taskq/contracts';
import { statsWindowEndingAt, toTaskStatsView } from './task-stats-view';

describe(statsWindowEndingAt.name, () => {
  it('ends with the end of the current minute, and spans whole minutes', () => {
    expect(statsWindowEndingAt(new Date('2026-12-04T10:15:42.123Z'), 60)).toEqual({ from: new Date('2026-12-04T09:16:00.000Z'), to: new Date('2026-12-04T10:16:00.000Z') });
    expect(statsWindowEndingAt(new Date('2026-12-04T10:15:00.000Z'), 1)).toEqual({ from: new Date('2026-12-04T10:15:00.000Z'), to: new Date('2026-12-04T10:16:00.000Z') });
  });
});

describe(toTaskStatsView.name, () => {
  const window = { from: new Date('2026-12-04T10:00:00.000Z'), to: new Date('2026-12-04T10:03:00.000Z') };

  it('gives every registered type a value for every minute, zeros included, and leaves out unregistered types', () => {
    const sut = toTaskStatsView({
      window: { ...window, tenant: 'acme' },
      windowMinutes: 3,
      depths: new Map([['noop', { waiting: 1, prioritized: 2, delayed: 3, active: 4, failed: 5 }]]),
      history: {
        counts: [
          { type: 'noop', event: 'completed', minute: 0, count: 4 },
          { type: 'noop', event: 'completed', minute: 2, count: 1 },
          { type: 'noop', event: 'failedAttempt', minute: 1, count: 2 },
          { type: 'sleep', event: 'dead', minute: 2, count: 7 },
          { type: 'retired-type', event: 'completed', minute: 1, count: 9 },
        ],
        durations: [{ type: 'noop', p50: 12, p95: 80 }],
      },
    });
    expect(sut).toMatchObject({ tenant: 'acme', windowMinutes: 3, from: '2026-12-04T10:00:00.000Z', to: '2026-12-04T10:03:00.000Z' });
    expect(sut.types.map((stats) => stats.type)).toEqual(TASK_TYPE_NAMES);
    expect(sut.types.find((stats) => stats.type === 'noop')).toEqual({
      type: 'noop',
      depth: { waiting: 1, prioritized: 2, delayed: 3, active: 4, failed: 5 },
      completed: { perMinute: [4, 0, 1], total: 5 },
      failedAttempts: { perMinute: [0, 2, 0], total: 2 },
      dead: { perMinute: [0, 0, 0], total: 0 },
      durationMs: { p50: 12, p95: 80 },
    });
    expect(sut.types.find((stats) => stats.type === 'sleep')).toEqual({
      type: 'sleep',
      depth: { waiting: 0, prioritized: 0, delayed: 0, active: 0, failed: 0 },
      completed: { perMinute: [0, 0, 0], total: 0 },
      failedAttempts: { perMinute: [0, 0, 0], total: 0 },
      dead: { perMinute: [0, 0, 7], total: 7 },
      durationMs: { p50: null, p95: null },
    });
  });

  it('says null for every tenant', () => {
    const sut = toTaskStatsView({ window, windowMinutes: 3, depths: new Map(), history: { counts: [], durations: [] } });
    expect(sut.tenant).toBeNull();
  });
});
