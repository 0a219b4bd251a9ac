import { TaskStatus, type TaskEvent, type TaskStatusEvent } from '@taskq/contracts';
import { decodeTaskEvents, encodeTaskEvents } from './task-event-codec';

const at = '2026-12-04T10:00:00.000Z';
const queued = (taskId: string, overrides: Partial<TaskStatusEvent> = {}): TaskStatusEvent => ({
  kind: 'status',
  taskId,
  type: 'noop',
  tenant: 'default',
  status: TaskStatus.Queued,
  attempt: null,
  error: null,
  at,
  ...overrides,
});

describe('task event messages', () => {
  it('give back the events in their order, each with all its fields', () => {
    const events: TaskEvent[] = [
      queued('a'),
      queued('b'),
      { kind: 'progress', taskId: 'c', type: 'sleep', tenant: 'default', progress: { step: 2 }, at },
      queued('d', { status: TaskStatus.Dead, attempt: 3, error: 'boom' }),
      queued('e'),
      queued('f', { tenant: 'acme' }),
      queued('g', { at: '2026-12-04T10:00:00.001Z' }),
      queued('h', { type: 'sleep' }),
    ];
    expect(decodeTaskEvents(encodeTaskEvents(events))).toEqual(events);
  });

  it("fold a bulk admission's alike events into one entry with every task's id", () => {
    const ids = Array.from({ length: 1_000 }, (_, index) => `00000000-0000-7000-8000-${String(index).padStart(12, '0')}`);
    const events = ids.map((id) => queued(id));
    const message = encodeTaskEvents(events);

    expect(JSON.parse(message)).toHaveLength(1);
    expect(message.length).toBeLessThan(ids.length * 40 + 200);
    expect(decodeTaskEvents(message)).toEqual(events);
  });

  it('refuse a message that is not theirs', () => {
    expect(decodeTaskEvents('not json')).toBeUndefined();
    expect(decodeTaskEvents('{"kind":"status"}')).toBeUndefined();
    expect(decodeTaskEvents('[1]')).toBeUndefined();
  });
});
