import { Queue } from 'bullmq';
import type { RedisConnection } from './redis-connection';

/**
 * WARNING: stored in Redis. A BullMQ queue that mirrors the dead-letter queue so operators
 * see dead tasks in Bull Board next to the live queues. PostgreSQL stays the record: the
 * API re-syncs the mirror at start-up, so it survives a Redis restart.
 */
export const DEAD_LETTER_QUEUE = '{dead-letter}';

/** WARNING: stored in Redis. Set once the mirror matches PostgreSQL; gone with Redis's data, which is how a loss is noticed. */
const syncedMarkerKey = (prefix: string): string => `${prefix}:${DEAD_LETTER_QUEUE}:synced`;

export interface DeadLetterEntry {
  taskId: string;
  type: string;
  error: string | null;
  /** Link to the task in the REST API. */
  task: string;
}

export class DeadLetterMirror {
  readonly queue: Queue<DeadLetterEntry>;

  /** `ownsConnection`: close() also closes the connection (it was made for this mirror). */
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    private readonly ownsConnection = false,
  ) {
    this.queue = new Queue<DeadLetterEntry>(DEAD_LETTER_QUEUE, { connection, prefix, skipWaitingForReady: true });
    this.queue.on('error', () => undefined);
  }

  /** Nobody consumes this queue: its jobs wait there until requeued or deleted. */
  async add(entries: Array<Omit<DeadLetterEntry, 'task'>>): Promise<void> {
    if (entries.length === 0) return;
    await this.queue.addBulk(
      entries.map((entry) => ({ name: entry.type, data: { ...entry, task: `/tasks/${entry.taskId}` }, opts: { jobId: entry.taskId } })),
    );
  }

  async remove(taskIds: string[]): Promise<void> {
    await Promise.all(taskIds.map((id) => this.queue.remove(id)));
  }

  /** Makes the mirror hold exactly the given dead tasks. Returns how many jobs were added and removed. */
  async sync(dead: Array<Omit<DeadLetterEntry, 'task'>>): Promise<{ added: number; removed: number }> {
    const mirrored = new Set<string>();
    for (let start = 0; ; start += 1_000) {
      const jobs = await this.queue.getJobs(['waiting', 'prioritized', 'delayed'], start, start + 999);
      for (const job of jobs) if (job.id) mirrored.add(job.id);
      if (jobs.length < 1_000) break;
    }
    const wanted = new Set(dead.map((entry) => entry.taskId));
    const missing = dead.filter((entry) => !mirrored.has(entry.taskId));
    const extra = [...mirrored].filter((id) => !wanted.has(id));
    await this.add(missing);
    await this.remove(extra);
    await this.connection.set(syncedMarkerKey(this.prefix), new Date().toISOString());
    return { added: missing.length, removed: extra.length };
  }

  /**
   * Syncs the mirror (see {@link sync}) unless it has been synced since Redis last lost its
   * data. `dead` is read only then. Null when there was nothing to do.
   */
  async syncIfLost(dead: () => Promise<Array<Omit<DeadLetterEntry, 'task'>>>): Promise<{ added: number; removed: number } | null> {
    if ((await this.connection.exists(syncedMarkerKey(this.prefix))) === 1) return null;
    return this.sync(await dead());
  }

  async close(): Promise<void> {
    await this.queue.close();
    if (this.ownsConnection) await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
