import { TEST_API_KEY } from './api-key';

export interface ServerSentEvent {
  id?: string;
  event: string;
  data: string;
}

export interface EventStreamReader {
  status: number;
  /** Every event received so far, in order (comments and `retry` lines are not events). */
  readonly events: ServerSentEvent[];
  /** Resolves when the server ends the stream (or it is closed). */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * Opens a Server-Sent Events stream with the test key (unless `headers` bring their own
 * authorization) and collects its events. Resolves once the response headers arrived; a
 * non-200 answer resolves too, with its status and no events.
 */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${TEST_API_KEY}`, accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: ServerSentEvent[] = [];
  const read = async (): Promise<void> => {
    if (response.status !== 200 || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseBlock(block);
          if (event) events.push(event);
        }
      }
    } catch {
      // closed by us
    }
  };
  return { status: response.status, events, ended: read(), close: () => controller.abort() };
}

function parseBlock(block: string): ServerSentEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { ...(id !== undefined ? { id } : {}), event, data: data.join('\n') } : undefined;
}
