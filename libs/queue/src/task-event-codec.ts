import type { TaskEvent, TaskStatusEvent } from '@taskq/contracts';

/**
 * Consecutive status events that differ only in their task, sent once with every task's id:
 * a bulk admission's thousand `queued` events share their type, tenant and time.
 */
interface StatusRun extends Omit<TaskStatusEvent, 'taskId'> {
  taskIds: string[];
}

type Entry = TaskEvent | StatusRun;

/** The channel's message for a batch of events: a JSON array in which runs of alike status events are folded. */
export function encodeTaskEvents(events: readonly TaskEvent[]): string {
  const entries: Entry[] = [];
  let run: StatusRun | undefined;
  for (const event of events) {
    if (event.kind === 'status' && run && alike(run, event)) {
      run.taskIds.push(event.taskId);
      continue;
    }
    if (event.kind === 'status') {
      const { taskId, ...shared } = event;
      run = { ...shared, taskIds: [taskId] };
      entries.push(run);
    } else {
      run = undefined;
      entries.push(event);
    }
  }
  return JSON.stringify(entries.map((entry) => (isRun(entry) && entry.taskIds.length === 1 ? unfold(entry, entry.taskIds[0] as string) : entry)));
}

/** The events of one message, in order; undefined when the message is not one of ours. */
export function decodeTaskEvents(message: string): TaskEvent[] | undefined {
  let entries: unknown;
  try {
    entries = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  const events: TaskEvent[] = [];
  for (const entry of entries as Entry[]) {
    if (entry === null || typeof entry !== 'object') return undefined;
    if (isRun(entry)) for (const taskId of entry.taskIds) events.push(unfold(entry, taskId));
    else events.push(entry);
  }
  return events;
}

function alike(run: StatusRun, event: TaskStatusEvent): boolean {
  return run.type === event.type && run.tenant === event.tenant && run.status === event.status && run.attempt === event.attempt && run.error === event.error && run.at === event.at;
}

function isRun(entry: Entry): entry is StatusRun {
  return Array.isArray((entry as Partial<StatusRun>).taskIds);
}

function unfold(run: StatusRun, taskId: string): TaskStatusEvent {
  return { kind: 'status', taskId, type: run.type, tenant: run.tenant, status: run.status, attempt: run.attempt, error: run.error, at: run.at };
}
