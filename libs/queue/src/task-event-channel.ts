import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TaskEventSink, type TaskEvent } from '@taskq/contracts';
import { throttledLog } from '@taskq/observability';

/** Redis pub/sub channel of task events: every committed change, as a JSON array per batch. */
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
    private readonly redis: Redis,
    prefix: string,
  ) {
    super();
    this.channel = taskEventChannel(prefix);
  }

  publish(events: readonly TaskEvent[]): void {
    if (events.length === 0) return;
    this.redis.publish(this.channel, JSON.stringify(events)).catch((error: Error) => this.logFailure(`task events not published (live streams catch up from PostgreSQL): ${error.message}`));
  }
}

/**
 * One process's subscription to task events, on a dedicated connection. `onGap` hears that
 * the subscription was down for a while (Redis restarted or unreachable): events published
 * meanwhile are gone, so listeners catch up from PostgreSQL.
 */
export class TaskEventSubscriber {
  private readonly listeners = new Set<(events: TaskEvent[]) => void>();
  private readonly gapListeners = new Set<(downSince: Date) => void>();
  private readonly logger = new Logger('TaskEvents');
  private downSince: Date | undefined;
  private wanted: () => boolean = () => true;

  private constructor(private readonly connection: Redis) {
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

  /** `connection` is dedicated: a subscribed Redis connection can do nothing else. */
  static async subscribe(connection: Redis, prefix: string): Promise<TaskEventSubscriber> {
    await connection.subscribe(taskEventChannel(prefix));
    return new TaskEventSubscriber(connection);
  }

  onEvents(listener: (events: TaskEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Messages arriving while `wanted` says no are dropped unparsed (an API replica without open streams). */
  onlyWhile(wanted: () => boolean): void {
    this.wanted = wanted;
  }

  /** `downSince`: when the subscription went down; what was published since then did not arrive. */
  onGap(listener: (downSince: Date) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.gapListeners.clear();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private dispatch(message: string): void {
    if (!this.wanted()) return;
    let events: TaskEvent[];
    try {
      events = JSON.parse(message) as TaskEvent[];
    } catch {
      this.logger.warn('a task event message that is not JSON was ignored');
      return;
    }
    if (!Array.isArray(events)) return;
    for (const listener of this.listeners) listener(events);
  }
}
