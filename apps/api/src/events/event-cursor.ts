import type { TaskEvent } from '@taskq/contracts';

/** `<ms since epoch>-<task id>`: opaque to clients, which send it back as `Last-Event-ID`. */
const CURSOR = /^(\d{1,15})-([0-9a-f-]{36})$/i;

export function cursorOf(event: TaskEvent): string {
  return `${Date.parse(event.at)}-${event.taskId}`;
}

/** The time a cursor stands for; undefined when it is not one of ours. */
export function timeOfCursor(cursor: string): Date | undefined {
  const match = CURSOR.exec(cursor.trim());
  if (!match) return undefined;
  const time = new Date(Number(match[1]));
  return Number.isNaN(time.getTime()) ? undefined : time;
}
