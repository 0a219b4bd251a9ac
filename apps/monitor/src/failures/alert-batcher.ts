export interface AlertBatch<T> {
  entries: T[];
  /** Entries that did not fit in the buffer since the last delivered batch (oldest dropped first). */
  dropped: number;
}

export interface AlertBatcherOptions<T> {
  /** At most one delivery attempt per interval, retries included. */
  intervalMs: number;
  /** Entries held at most; beyond it the oldest are dropped and counted. */
  capacity: number;
  /** How long the first entry after a quiet period waits for others that come with it. */
  gatherMs: number;
  /** Longest wait between retries of a failed delivery (never shorter than the interval). */
  maxRetryDelayMs: number;
  /**
   * Asked before each delivery attempt: 0 to go ahead, or how many ms to wait. Lets several
   * processes share one interval (another replica just sent a request).
   */
  reserveSlot?: () => Promise<number>;
  /**
   * Asked before each delivery attempt (before `reserveSlot`) with the waiting entries:
   * resolves with those still to deliver. The others (another process delivered them) leave
   * the buffer without being counted as dropped; when none is left, no attempt is made. An
   * error keeps them all.
   */
  stillWanted?: (entries: T[]) => Promise<T[]>;
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

/** Waits `ms`, or less if `until` settles first; leaves no timer behind. */
async function pause(ms: number, until?: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))));
  try {
    await (until ? Promise.race([elapsed, until.then(() => undefined, () => undefined)]) : elapsed);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Gathers entries into batches and hands each batch to `deliver`, never twice within
 * `intervalMs`: the first entry after a quiet period goes out after `gatherMs`; entries that
 * arrive later wait for the interval to pass since the previous attempt. A failed batch goes
 * back in front of the buffer and is retried with a doubling delay (interval, 2× interval, …).
 */
export class AlertBatcher<T> {
  private buffer: T[] = [];
  /** The batch of the delivery in flight. */
  private sending: T[] = [];
  private dropped = 0;
  private lastAttemptAt: number | null = null;
  /** Set when `reserveSlot` asked to wait. */
  private notBefore = 0;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private closed = false;

  constructor(
    private readonly deliver: (batch: AlertBatch<T>) => Promise<void>,
    private readonly options: AlertBatcherOptions<T>,
    private readonly events: AlertBatcherEvents<T> = {},
  ) {}

  /** Entries not delivered yet: those of the delivery in flight, then those waiting. */
  undelivered(): T[] {
    return [...this.sending, ...this.buffer];
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
   * Stops the timer and keeps trying to deliver what is left, as the interval allows, until
   * `deadline` (ms since the epoch). Returns what is still undelivered.
   */
  async close(deadline: number): Promise<AlertBatcherLeftover<T>> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (;;) {
      if (this.inFlight) await pause(deadline - Date.now(), this.inFlight);
      if (this.inFlight || this.buffer.length === 0) break;
      const wait = this.nextAttemptAt() - Date.now();
      if (Date.now() + Math.max(0, wait) >= deadline) break;
      await pause(wait);
      void this.flush();
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
    if (this.lastAttemptAt === null) return Math.max(Date.now(), this.notBefore);
    const { intervalMs, maxRetryDelayMs } = this.options;
    const wait = this.failures === 0 ? intervalMs : Math.max(intervalMs, Math.min(intervalMs * 2 ** (this.failures - 1), maxRetryDelayMs));
    return Math.max(this.lastAttemptAt + wait, this.notBefore);
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
    this.inFlight = this.attempt().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  private async attempt(): Promise<void> {
    if (this.options.stillWanted && this.buffer.length > 0) {
      const waiting = [...this.buffer];
      const wanted = new Set(await this.options.stillWanted(waiting).catch(() => waiting));
      const settled = new Set(waiting.filter((entry) => !wanted.has(entry)));
      // Entries may have come meanwhile (and old ones been trimmed): filter the buffer as it is now.
      if (settled.size > 0) this.buffer = this.buffer.filter((entry) => !settled.has(entry));
      if (this.buffer.length === 0 && this.dropped === 0) return;
    }
    // A slot that cannot be checked is taken: better a request too many than an alert lost.
    const wait = this.options.reserveSlot ? await this.options.reserveSlot().catch(() => 0) : 0;
    if (wait > 0) {
      this.notBefore = Date.now() + wait;
      return;
    }
    const batch: AlertBatch<T> = { entries: this.buffer.splice(0), dropped: this.dropped };
    if (batch.entries.length === 0 && batch.dropped === 0) return;
    this.dropped = 0;
    this.lastAttemptAt = Date.now();
    this.sending = batch.entries;
    try {
      await this.deliver(batch);
      this.failures = 0;
      this.events.delivered?.(batch);
    } catch (error) {
      this.failures++;
      this.buffer.unshift(...batch.entries);
      this.dropped += batch.dropped;
      this.trim();
      this.events.failed?.(error instanceof Error ? error : new Error(String(error)), batch, this.nextAttemptAt() - Date.now());
    } finally {
      this.sending = [];
    }
  }
}
