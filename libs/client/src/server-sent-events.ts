/** One event of a `text/event-stream` body. */
export interface ServerSentEvent {
  id?: string;
  event: string;
  data: string;
  /** A `retry:` the server sent before this event (ms). */
  retry?: number;
}

/**
 * Parses a Server-Sent Events body (the WHATWG rules that matter here: `\n`, `\r\n` and `\r`
 * line ends, `:` comments, multi-line `data`, `id`, `event`, `retry`) into events.
 */
export async function* serverSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let pending: { id?: string; event?: string; data: string[]; retry?: number } = { data: [] };
  const dispatch = (): ServerSentEvent | undefined => {
    const { id, event, data, retry } = pending;
    pending = { data: [] };
    if (data.length === 0) return undefined;
    return { ...(id !== undefined ? { id } : {}), event: event ?? 'message', data: data.join('\n'), ...(retry !== undefined ? { retry } : {}) };
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    // The last piece may be a line cut in the middle (or a lone \r before its \n): keep it.
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        const event = dispatch();
        if (event) yield event;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') pending.data.push(value);
      else if (field === 'event') pending.event = value;
      else if (field === 'id' && !value.includes('\0')) pending.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) pending.retry = Number(value);
    }
  }
}
