/** At most one progress write per task in this window; the last value reported always lands. */
export const PROGRESS_WRITE_INTERVAL_MS = 250;

/**
 * One attempt's progress reports, throttled: the first goes out at once, later ones at most
 * one per interval, each carrying the latest value. Reports in between replace each other,
 * so a chatty handler costs one write per interval, and {@link settle} writes the last one
 * before the attempt's outcome is recorded.
 */
export class ProgressThrottle<T> {
  private pending: { value: T } | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** Never rejects: failures are the writer's to log. */
    private readonly write: (value: T) => Promise<void>,
    private readonly intervalMs = PROGRESS_WRITE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  report(value: T): void {
    this.pending = { value };
    this.schedule();
  }

  /** Writes what is still pending, now, and waits for every write. */
  async settle(): Promise<void> {
    for (;;) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.inFlight) await this.inFlight;
      else if (this.pending) await this.flushPending();
      else return;
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    const wait = this.lastWriteAt + this.intervalMs - this.now();
    if (wait <= 0) {
      void this.flushPending();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flushPending();
    }, wait);
  }

  private flushPending(): Promise<void> {
    const next = this.pending;
    if (!next) return Promise.resolve();
    this.pending = undefined;
    this.lastWriteAt = this.now();
    const write = this.write(next.value).finally(() => {
      this.inFlight = undefined;
      if (this.pending) this.schedule();
    });
    this.inFlight = write;
    return write;
  }
}
