import { serverSentEvents, type ServerSentEvent } from './server-sent-events';

async function parse(chunks: string[]): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const events: ServerSentEvent[] = [];
  for await (const event of serverSentEvents(body())) events.push(event);
  return events;
}

describe(serverSentEvents.name, () => {
  const stream = 'retry: 2000\n\n: heartbeat\n\nid: 1-a\nevent: status\ndata: {"x":1}\n\nid: 2-a\nevent: progress\ndata: line one\ndata: line two\n\n';

  it('reads ids, event names, multi-line data and retry, and skips comments', async () => {
    expect(await parse([stream])).toEqual([
      { id: '1-a', event: 'status', data: '{"x":1}' },
      { id: '2-a', event: 'progress', data: 'line one\nline two' },
    ]);
  });

  it('gives the same events however the body is cut into chunks', async () => {
    const whole = await parse([stream]);
    for (let cut = 1; cut < stream.length; cut++) expect(await parse([stream.slice(0, cut), stream.slice(cut)])).toEqual(whole);
    expect(await parse(stream.split(''))).toEqual(whole);
  });

  it('accepts CRLF line ends, a default event name, and a retry before an event', async () => {
    expect(await parse(['retry: 500\r\ndata: hello\r\n\r\n'])).toEqual([{ event: 'message', data: 'hello', retry: 500 }]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await parse(['data: complete\n\ndata: cut'])).toEqual([{ event: 'message', data: 'complete' }]);
  });
});
