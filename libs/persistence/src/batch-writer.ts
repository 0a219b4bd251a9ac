export interface BatchWriterOptions {
  /** Most items one statement carries. */
  maxBatchSize: number;
  /** Statements in flight at once; further writes queue up and go out together. */
  maxConcurrentFlushes: number;
  /**
   * How long a write that finds the writer idle waits for company before it goes out (0: at
   * once), at moderate rates only: when the writer flushed within {@link QUIET_MS} and its last
   * batch was smaller than {@link LINGER_BELOW}. Then a statement gathers a few writes instead
   * of one, for a bounded delay. Under load batches form anyway, behind the statement in flight,
   * and lingering would only slow callers who wait for their writes (a worker's job slots).
   */
  lingerMs?: number;
  /** Observes each flushed batch's size (metrics). */
  onFlush?: (size: number) => void;
}

/** A writer that flushed nothing for this long is quiet: its next write does not linger. */
export const QUIET_MS = 50;
/** A batch of at least this many writes means load: the next write does not linger. */
export const LINGER_BELOW = 4;

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: callers write one item and await its own result, but items that arrive
 * while earlier statements are in flight are flushed together as one multi-row statement.
 * An idle writer flushes after `lingerMs` (at once by default).
 */
export class BatchWriter<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private inFlight = 0;
  private lingering: NodeJS.Timeout | undefined;
  private lastFlushAt = 0;
  private lastBatchSize = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly flushBatch: (items: I[]) => Promise<O[]>,
    private readonly options: BatchWriterOptions,
  ) {}

  write(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.inFlight > 0 || this.queue.length >= this.options.maxBatchSize || !this.lingers()) this.pump();
      else this.lingering ??= setTimeout(() => {
        this.lingering = undefined;
        this.pump();
      }, this.options.lingerMs);
    });
  }

  /** Resolves when everything written so far has been flushed. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private lingers(): boolean {
    return !!this.options.lingerMs && this.lastBatchSize < LINGER_BELOW && Date.now() - this.lastFlushAt <= QUIET_MS;
  }

  private pump(): void {
    if (this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
    }
    while (this.queue.length > 0 && this.inFlight < this.options.maxConcurrentFlushes) {
      const batch = this.queue.splice(0, this.options.maxBatchSize);
      this.inFlight++;
      this.lastFlushAt = Date.now();
      this.lastBatchSize = batch.length;
      void this.flush(batch);
    }
  }

  private async flush(batch: Array<Pending<I, O>>): Promise<void> {
    try {
      this.options.onFlush?.(batch.length);
      const results = await this.flushBatch(batch.map((pending) => pending.item));
      batch.forEach((pending, index) => pending.resolve(results[index] as O));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.inFlight--;
      this.pump();
      if (this.queue.length === 0 && this.inFlight === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }
}
