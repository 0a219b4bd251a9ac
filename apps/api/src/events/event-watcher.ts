import { TaskStatus, isTerminalStatus, type TaskEvent } from '@taskq/contracts';
import type { SseStream } from './sse-stream';

/** Which events a stream wants. Unset fields match everything. */
export interface EventFilter {
  taskId?: string;
  tenant?: string;
  types?: ReadonlySet<string>;
  /** Status events of these statuses; progress events pass when it holds `active`. */
  statuses?: ReadonlySet<TaskStatus>;
}

export function matchesFilter(filter: EventFilter, event: TaskEvent): boolean {
  if (filter.taskId !== undefined && event.taskId !== filter.taskId) return false;
  if (filter.tenant !== undefined && event.tenant !== filter.tenant) return false;
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.statuses && !filter.statuses.has(event.kind === 'status' ? event.status : TaskStatus.Active)) return false;
  return true;
}

/** Terminal events remembered per stream to drop the copies catch-up finds again. */
const REMEMBERED_TERMINALS = 10_000;

/**
 * One open stream's view of the event flow: filters, sends each terminal state once (live
 * announcements and catch-up from PostgreSQL overlap), and holds back what arrives before
 * the stream is attached with its opening events, so nothing older follows them.
 */
export class EventWatcher {
  private held: TaskEvent[] | null = [];
  private stream: SseStream | undefined;
  private ended = false;
  private readonly terminalsSent = new Set<string>();

  constructor(
    readonly filter: EventFilter,
    /** A single task's stream ends after its terminal state. */
    private readonly endOnTerminal: boolean,
  ) {}

  deliver(event: TaskEvent): void {
    if (!matchesFilter(this.filter, event)) return;
    if (this.held) this.held.push(event);
    else this.emit(event);
  }

  /** Attaches the stream and sends the opening events (a snapshot, a catch-up), then what arrived meanwhile that is not older. */
  start(stream: SseStream, opening: readonly TaskEvent[]): void {
    this.stream = stream;
    if (this.ended) {
      stream.end();
      return;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const event of opening) if (matchesFilter(this.filter, event)) this.emit(event);
    const from = opening.length > 0 ? Math.max(...opening.map((event) => Date.parse(event.at))) : Number.NEGATIVE_INFINITY;
    for (const event of held) if (event.kind === 'progress' || Date.parse(event.at) >= from) this.emit(event);
  }

  end(): void {
    this.ended = true;
    this.stream?.end();
  }

  private emit(event: TaskEvent): void {
    const stream = this.stream;
    if (!stream || stream.closed) return;
    if (event.kind === 'status' && isTerminalStatus(event.status)) {
      const key = `${event.taskId}:${event.status}:${Date.parse(event.at)}`;
      if (this.terminalsSent.has(key)) return;
      if (this.terminalsSent.size >= REMEMBERED_TERMINALS) this.terminalsSent.delete(this.terminalsSent.values().next().value as string);
      this.terminalsSent.add(key);
      stream.send(event);
      if (this.endOnTerminal) stream.end();
      return;
    }
    stream.send(event);
  }
}
