import { QUEUE_DEPTH_STATES, TASK_TYPE_NAMES, type EventSeries, type QueueDepthView, type TaskStatsView, type TaskType } from '@taskq/contracts';
import type { StatsEvent, StatsWindow, TaskStatsReading } from '@taskq/persistence';

const MINUTE_MS = 60_000;

/** The window of `windowMinutes` whole minutes whose last minute is the one `now` falls in. */
export function statsWindowEndingAt(now: Date, windowMinutes: number): Pick<StatsWindow, 'from' | 'to'> {
  const to = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  return { from: new Date(to - windowMinutes * MINUTE_MS), to: new Date(to) };
}

export interface StatsParts {
  window: StatsWindow;
  windowMinutes: number;
  depths: ReadonlyMap<TaskType, QueueDepthView>;
  history: TaskStatsReading;
}

const NO_DEPTH: QueueDepthView = Object.fromEntries(QUEUE_DEPTH_STATES.map((state) => [state, 0])) as QueueDepthView;

/**
 * Every registered type, in registry order, with a value for every minute of the window
 * (minutes without events are zeros, which the queries leave out). Rows of types no longer
 * registered are left out.
 */
export function toTaskStatsView({ window, windowMinutes, depths, history }: StatsParts): TaskStatsView {
  const series = new Map<string, Record<StatsEvent, number[]>>(
    TASK_TYPE_NAMES.map((type) => [type, { completed: zeros(windowMinutes), dead: zeros(windowMinutes), failedAttempt: zeros(windowMinutes) }]),
  );
  for (const { type, event, minute, count } of history.counts) {
    const perMinute = series.get(type)?.[event];
    if (perMinute && minute >= 0 && minute < windowMinutes) perMinute[minute] = (perMinute[minute] ?? 0) + count;
  }
  const durations = new Map(history.durations.map((row) => [row.type, row]));
  return {
    tenant: window.tenant ?? null,
    windowMinutes,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    types: TASK_TYPE_NAMES.map((type) => {
      const events = series.get(type) as Record<StatsEvent, number[]>;
      const duration = durations.get(type);
      return {
        type,
        depth: depths.get(type) ?? NO_DEPTH,
        completed: seriesOf(events.completed),
        failedAttempts: seriesOf(events.failedAttempt),
        dead: seriesOf(events.dead),
        durationMs: { p50: duration?.p50 ?? null, p95: duration?.p95 ?? null },
      };
    }),
  };
}

const zeros = (length: number): number[] => new Array<number>(length).fill(0);

const seriesOf = (perMinute: number[]): EventSeries => ({ perMinute, total: perMinute.reduce((sum, count) => sum + count, 0) });
