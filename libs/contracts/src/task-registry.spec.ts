import { TASK_TYPE_NAMES, getTaskType, isTaskType } from './task-registry';

describe('task registry', () => {
  it('lists every built-in type, first and in order (their names are stored values: never renamed)', () => {
    expect(TASK_TYPE_NAMES.slice(0, 5)).toEqual(['email', 'webhook', 'report', 'noop', 'sleep']);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', '', 'EMAIL'])('does not mistake %p for a task type', (name) => {
    expect(isTaskType(name)).toBe(false);
  });

  it("names each type's queue after its registry key", () => {
    for (const type of TASK_TYPE_NAMES) expect(getTaskType(type).queue).toBe(type);
  });

  it('gives each type a distinct queue and sane defaults', () => {
    const queues = TASK_TYPE_NAMES.map((type) => getTaskType(type).queue);
    expect(new Set(queues).size).toBe(queues.length);
    for (const type of TASK_TYPE_NAMES) {
      const definition = getTaskType(type);
      expect(definition.attempts).toBeGreaterThanOrEqual(1);
      expect(definition.timeoutMs).toBeGreaterThan(0);
      expect(definition.concurrency).toBeGreaterThan(0);
      expect(definition.backoff.maxDelayMs).toBeGreaterThanOrEqual(definition.backoff.delayMs);
    }
  });
});
