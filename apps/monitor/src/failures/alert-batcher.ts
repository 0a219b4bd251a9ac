export interface AlertBatch<T> {
  entries: T[];
  /** Entries that did not fit in the buffer since the last delivered batch (oldest dropped first). */
  dropped: number;
}

export interface AlertBatcherOptions {
  /** At most one delivery attempt per interval, retries included. */
  intervalMs: number;
  /** Entries held at most; beyond it the oldest are dropped and counted. */
  capacity: number;
  /** How long the first entry after a quiet period waits for others that come with it. */
  gatherMs: number;
  /** Longest wait between retries of a failed delivery (never shorter than the interval). */
  maxRetryDelayMs: number;
}

export interface AlertBatcherEvents<T> {
  delivered?(batch: AlertBatch<T>): void;
  failed?(error: Error, batch: AlertBatch<T>, retryInMs: number): void;
}

/** What `close` could not deliver. */
export interface AlertBatcherLeftover<T> {
  entries: T[];
  dropped: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Gathers entries into batches and hands each batch to `deliver`, never twice within
 * `intervalMs`: the first entry after a quiet period goes out after `gatherMs`; entries that
 * arrive later wait for the interval to pass since the previous attempt. A failed batch goes
 * back in front of the buffer and is retried with a doubling delay (interval, 2× interval, …).
 */
export class AlertBatcher<T> {
  private buffer: T[] = [];
  private dropped = 0;
  private lastAttemptAt: number | null = null;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private closed = false;

  constructor(
    private readonly deliver: (batch: AlertBatch<T>) => Promise<void>,
    private readonly options: AlertBatcherOptions,
    private readonly events: AlertBatcherEvents<T> = {},
  ) {}

  /** Entries waiting for a delivery (in flight included). */
  get pending(): number {
    return this.buffer.length;
  }

  add(entry: T): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.buffer.push(entry);
    this.trim();
    this.schedule();
  }

  /**
   * Stops the timer and makes one last delivery if the interval allows it before `deadline`
   * (a time in ms since the epoch). Returns what is still undelivered.
   */
  async close(deadline: number): Promise<AlertBatcherLeftover<T>> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight) await Promise.race([this.inFlight, sleep(Math.max(0, deadline - Date.now()))]);
    if (!this.inFlight && this.buffer.length > 0) {
      const wait = this.nextAttemptAt() - Date.now();
      if (Date.now() + Math.max(0, wait) < deadline) {
        if (wait > 0) await sleep(wait);
        await Promise.race([this.flush(), sleep(Math.max(0, deadline - Date.now()))]);
      }
    }
    return { entries: [...this.buffer], dropped: this.dropped };
  }

  private trim(): void {
    const excess = this.buffer.length - this.options.capacity;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** The earliest time the next delivery attempt may start. */
  private nextAttemptAt(): number {
    if (this.lastAttemptAt === null) return Date.now();
    const { intervalMs, maxRetryDelayMs } = this.options;
    const wait = this.failures === 0 ? intervalMs : Math.max(intervalMs, Math.min(intervalMs * 2 ** (this.failures - 1), maxRetryDelayMs));
    return this.lastAttemptAt + wait;
  }

  private schedule(): void {
    if (this.closed || this.timer || this.inFlight || this.buffer.length === 0) return;
    const at = Math.max(this.nextAttemptAt(), Date.now() + this.options.gatherMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, at - Date.now());
  }

  private flush(): Promise<void> {
    const batch: AlertBatch<T> = { entries: this.buffer.splice(0), dropped: this.dropped };
    this.dropped = 0;
    this.lastAttemptAt = Date.now();
    const attempt = this.deliver(batch).then(
      () => {
        this.failures = 0;
        this.events.delivered?.(batch);
      },
      (error: unknown) => {
        this.failures++;
        this.buffer.unshift(...batch.entries);
        this.dropped += batch.dropped;
        this.trim();
        this.events.failed?.(error instanceof Error ? error : new Error(String(error)), batch, this.nextAttemptAt() - Date.now());
      },
    );
    this.inFlight = attempt.finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }
}
