import type { RedisConnection } from './redis-connection';

/** Redis pub/sub channel on which the API announces cancelled tasks to every worker. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/**
 * A worker's subscription to cancellations. Pub/sub reaches every worker process; the one
 * running the task aborts it. A cancellation that arrives when no worker runs the task is
 * harmless: PostgreSQL already says `cancelled`, so no worker will start it.
 */
export class CancelSubscriber {
  private readonly listeners = new Set<(taskId: string) => void>();

  private constructor(private readonly subscriber: RedisConnection) {
    subscriber.on('message', (_channel: string, taskId: string) => {
      for (const listener of this.listeners) listener(taskId);
    });
  }

  /** `connection` is dedicated: a subscribed Redis connection can do nothing else. */
  static async subscribe(connection: RedisConnection, prefix: string): Promise<CancelSubscriber> {
    await connection.subscribe(cancelChannel(prefix));
    return new CancelSubscriber(connection);
  }

  onCancel(listener: (taskId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
