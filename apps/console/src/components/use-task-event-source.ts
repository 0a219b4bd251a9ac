import { useEffect, useRef } from 'react';
import type { TaskEvent } from '@taskq/contracts';

/**
 * An event stream of the API (`/events`, `/tasks/:id/events`), same-origin so the session
 * cookie goes along, through the browser's EventSource: it reconnects by itself and sends
 * Last-Event-ID.
 */
export function useTaskEventSource(url: string, onEvent: (event: TaskEvent) => void, enabled = true): void {
  const listener = useRef(onEvent);
  listener.current = onEvent;
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource(url);
    const handle = (message: MessageEvent<string>): void => {
      try {
        listener.current(JSON.parse(message.data) as TaskEvent);
      } catch {
        // a malformed event is skipped
      }
    };
    source.addEventListener('status', handle);
    source.addEventListener('progress', handle);
    return () => source.close();
  }, [url, enabled]);
}
