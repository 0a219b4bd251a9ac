import { Logger } from '@nestjs/common';
import type { RedisConnection } from './redis-connection';
import { TaskEventSink, type TaskEvent } from '@taskq/contracts';
import { throttledLog } from '@taskq/observability';
import { decodeTaskEvents, encodeTaskEvents } from './task-event-codec';

/** Redis pub/sub channel of task events: every committed change, one message per batch. */
export function taskEventChannel(prefix: string): string {
  return `${prefix}:events`;
}

/**
 * Announces committed changes to every API replica. One PUBLISH per batch, on the app's own
 * connection, so one process's events arrive in the order it committed them. Fire and forget:
 * a lost announcement costs a live view a moment, never a terminal state, which streams
 * catch up from PostgreSQL.
 */
export class TaskEventPublisher extends TaskEventSink {
  private readonly logger = new Logger('TaskEvents');
  private readonly logFailure = throttledLog((message) => this.logger.warn(message));
  private readonly channel: string;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
  ) {
    super();
    this.channel = taskEventChannel(prefix);
  }

  publish(events: readonly TaskEvent[]): void {
    if (events.length === 0) return;
    this.redis.publish(this.channel, encodeTaskEvents(events)).catch((error: Error) => this.logFailure(`task events not published (live streams catch up from PostgreSQL): ${error.message}`));
  }
}

/**
 * One process's subscription to task events, on a dedicated connection, subscribed only
 * while someone listens ({@link listen}), so a process without open streams reads nothing.
 * `onGap` hears that the connection was down for a while (Redis restarted or unreachable):
 * events published meanwhile are gone, so listeners catch up from PostgreSQL.
 */
export class TaskEventSubscriber {
  private readonly listeners = new Set<(events: TaskEvent[]) => void>();
  private readonly gapListeners = new Set<(downSince: Date) => void>();
  private readonly logger = new Logger('TaskEvents');
  private readonly channel: string;
  private subscribed: Promise<void> | undefined;
  private downSince: Date | undefined;

  /** `connection` is dedicated: a subscribed Redis connection can do nothing else. */
  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
  ) {
    this.channel = taskEventChannel(prefix);
    connection.on('message', (_channel: string, message: string) => this.dispatch(message));
    connection.on('close', () => {
      this.downSince ??= new Date();
    });
    // ioredis subscribes again by itself once it has reconnected.
    connection.on('ready', () => {
      const downSince = this.downSince;
      if (!downSince) return;
      this.downSince = undefined;
      for (const listener of this.gapListeners) listener(downSince);
    });
  }

  /** Subscribes, if not yet; resolves once Redis has confirmed, so what is published from then on arrives. */
  listen(): Promise<void> {
    this.subscribed ??= this.connection.subscribe(this.channel).then(
      () => undefined,
      (error: Error) => {
        this.subscribed = undefined;
        throw error;
      },
    );
    return this.subscribed;
  }

  /** Unsubscribes: messages stop arriving (Redis runs the two in the order they were sent). */
  stopListening(): void {
    if (!this.subscribed) return;
    this.subscribed = undefined;
    this.connection.unsubscribe(this.channel).catch(() => undefined);
  }

  onEvents(listener: (events: TaskEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `downSince`: when the connection went down; what was published since then did not arrive. */
  onGap(listener: (downSince: Date) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.gapListeners.clear();
    this.subscribed = undefined;
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private dispatch(message: string): void {
    if (this.listeners.size === 0) return;
    const events = decodeTaskEvents(message);
    if (!events) {
      this.logger.warn('a task event message that is not ours was ignored');
      return;
    }
    for (const listener of this.listeners) listener(events);
  }
}
