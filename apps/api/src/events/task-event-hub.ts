import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiConfig } from '@taskq/config';
import type { TaskEvent, TaskStatusEvent } from '@taskq/contracts';
import { throttledLog } from '@taskq/observability';
import { TaskEventHistory, type TerminalEventFilter } from '@taskq/persistence';
import { TaskEventSubscriber, createRedisConnection } from '@taskq/queue';
import type { EventFilter, EventWatcher } from './event-watcher';

/**
 * Catch-up reads this far before the time it starts from: a change is stamped with its
 * process's clock before it commits, so one stamped a moment earlier can commit later.
 */
export const CATCH_UP_OVERLAP_MS = 2_000;
/** Most terminal states one catch-up sends. */
export const CATCH_UP_LIMIT = 1_000;
/** How long a new stream waits for the subscription before it opens anyway (Redis away: it lives on catch-up). */
const SUBSCRIBE_WAIT_MS = 2_000;
/** The subscription outlives the last stream this long, for clients that reconnect or watch one task after another. */
const UNSUBSCRIBE_AFTER_MS = 10_000;

/**
 * The API process's one subscription to task events, fanned out in memory to its open
 * streams; subscribed only while streams are open, so a replica nobody watches does not
 * read every batch the cluster commits. It also catches streams up from PostgreSQL, so none misses a terminal state:
 * after a gap in the subscription (Redis away), and every SSE_CATCH_UP_INTERVAL_MS while
 * streams are open (an announcement lost with a process that crashed after its commit).
 */
@Injectable()
export class TaskEventHub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('TaskEvents');
  private readonly logStreamTrouble = throttledLog((message) => this.logger.warn(message));
  private readonly watchers = new Set<EventWatcher>();
  private readonly openPerKey = new Map<string, number>();
  private subscriber?: TaskEventSubscriber;
  private sweepTimer?: NodeJS.Timeout;
  private unsubscribeTimer?: NodeJS.Timeout;
  private lastSweepAt = Date.now();
  private closing = false;

  constructor(
    private readonly config: ApiConfig,
    private readonly history: TaskEventHistory,
  ) {}

  onModuleInit(): void {
    // The connection waits for Redis by itself; streams live on catch-up until it answers.
    this.subscriber = new TaskEventSubscriber(createRedisConnection(this.config.redisUrl, 'worker'), this.config.queuePrefix);
    this.subscriber.onEvents((events) => this.dispatch(events));
    this.subscriber.onGap((downSince) => void this.sweep(downSince.getTime()));
  }

  /** Ends every stream before the HTTP server waits for its connections to close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
    clearTimeout(this.unsubscribeTimer);
    await this.subscriber?.close();
  }

  /** Counts a stream of this key against SSE_MAX_STREAMS_PER_KEY; null when at the limit. The lease ends the count. */
  lease(key: string): (() => void) | null {
    const open = this.openPerKey.get(key) ?? 0;
    if (this.closing || open >= this.config.sseMaxStreamsPerKey) return null;
    this.openPerKey.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.openPerKey.get(key) ?? 1) - 1;
      if (left > 0) this.openPerKey.set(key, left);
      else this.openPerKey.delete(key);
    };
  }

  /**
   * Starts delivering to `watcher` (it holds events until its stream starts) and resolves once
   * the subscription is live, so everything committed after that reaches it; returns the
   * function that stops it.
   */
  async add(watcher: EventWatcher): Promise<() => void> {
    this.watchers.add(watcher);
    clearTimeout(this.unsubscribeTimer);
    this.sweepTimer ??= setInterval(() => void this.sweep(this.lastSweepAt), this.config.sseCatchUpIntervalMs).unref();
    const stop = (): void => {
      if (!this.watchers.delete(watcher) || this.watchers.size > 0) return;
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      this.unsubscribeTimer = setTimeout(() => this.subscriber?.stopListening(), UNSUBSCRIBE_AFTER_MS).unref();
    };
    await this.listening();
    return stop;
  }

  /** The subscription, waited for at most SUBSCRIBE_WAIT_MS: without Redis a stream still opens, and catches up. */
  private async listening(): Promise<void> {
    if (!this.subscriber) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SUBSCRIBE_WAIT_MS)));
    try {
      const outcome = await Promise.race([this.subscriber.listen().then(() => 'live' as const), timeout]);
      if (outcome === 'timeout') this.logStreamTrouble('no subscription to task events yet (Redis unreachable?): streams catch up from PostgreSQL until it answers');
    } catch (error) {
      this.logStreamTrouble(`no subscription to task events: streams catch up from PostgreSQL (${(error as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Terminal states since a stream's cursor (with the overlap), for a stream that reconnects. */
  catchUp(filter: EventFilter, since: Date): Promise<TaskStatusEvent[]> {
    return this.history.terminalSince(new Date(since.getTime() - CATCH_UP_OVERLAP_MS), historyFilterOf(filter), CATCH_UP_LIMIT);
  }

  private dispatch(events: readonly TaskEvent[]): void {
    for (const watcher of this.watchers) for (const event of events) watcher.deliver(event);
  }

  /** Terminal states since `fromMs` (with the overlap) that open streams may have missed. */
  private async sweep(fromMs: number): Promise<void> {
    if (this.watchers.size === 0) return;
    const startedAt = Date.now();
    try {
      const filters = [...this.watchers].map((watcher) => watcher.filter);
      // Single-task streams only need their tasks; any other stream needs every recent terminal state.
      const onlyTasks = filters.every((filter) => filter.taskId !== undefined);
      const since = new Date(fromMs - CATCH_UP_OVERLAP_MS);
      const events = onlyTasks
        ? await this.history.terminalSince(since, { taskIds: [...new Set(filters.map((filter) => filter.taskId as string))] }, CATCH_UP_LIMIT * 5)
        : await this.history.terminalSince(since, {}, CATCH_UP_LIMIT * 5);
      this.lastSweepAt = startedAt;
      this.dispatch(events);
    } catch (error) {
      this.logStreamTrouble(`live streams could not catch up from PostgreSQL: ${(error as Error).message}`);
    }
  }
}

function historyFilterOf(filter: EventFilter): TerminalEventFilter {
  return {
    tenant: filter.tenant,
    taskIds: filter.taskId === undefined ? undefined : [filter.taskId],
    types: filter.types ? [...filter.types] : undefined,
    statuses: filter.statuses ? [...filter.statuses] : undefined,
  };
}
