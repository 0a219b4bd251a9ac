import type { ServerResponse } from 'node:http';
import type { TaskEvent } from '@taskq/contracts';
import { cursorOf } from './event-cursor';

/** A client that reads slower than this many bytes behind is cut off; it reconnects and catches up. */
const MAX_BUFFERED_BYTES = 1_048_576;
/** What EventSource waits before it reconnects. */
const RECONNECT_MS = 2_000;

/** An event's block, made once however many streams send it. */
const blocks = new WeakMap<TaskEvent, string>();

function blockOf(event: TaskEvent): string {
  let block = blocks.get(event);
  if (block === undefined) {
    const { kind, ...data } = event;
    block = `id: ${cursorOf(event)}\nevent: ${kind}\ndata: ${JSON.stringify({ kind, ...data })}\n\n`;
    blocks.set(event, block);
  }
  return block;
}

/** One Server-Sent Events response: `retry`, then one `id`/`event`/`data` block per event, and heartbeats. */
export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;
  private ended = false;
  private corked = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly response: ServerResponse,
    heartbeatMs: number,
    headers: Record<string, string> = {},
  ) {
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (nginx) must pass events through as they come.
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${RECONNECT_MS}\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), heartbeatMs);
    this.heartbeat.unref();
    response.on('close', () => this.finish());
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Events sent in one tick leave together, in one chunk and one system call. */
  send(event: TaskEvent): void {
    if (!this.corked && !this.ended) {
      this.corked = true;
      this.response.cork();
      process.nextTick(() => {
        this.corked = false;
        this.response.uncork();
      });
    }
    this.write(blockOf(event));
  }

  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }

  end(): void {
    if (this.ended) return;
    this.response.end();
    this.finish();
  }

  private write(chunk: string): void {
    if (this.ended) return;
    if (this.response.writableLength > MAX_BUFFERED_BYTES) {
      this.response.destroy();
      this.finish();
      return;
    }
    this.response.write(chunk);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
