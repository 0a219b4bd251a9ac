import type { TaskEvent } from '@taskq/contracts';
import { useTaskEventSource } from './use-task-event-source';

/** `GET /events` of the session's tenant(s), filtered by the API as `query` says. */
export function useTaskEvents(onEvent: (event: TaskEvent) => void, query: Record<string, string | undefined> = {}, enabled = true): void {
  const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')).toString();
  useTaskEventSource(`/events${search ? `?${search}` : ''}`, onEvent, enabled);
}
