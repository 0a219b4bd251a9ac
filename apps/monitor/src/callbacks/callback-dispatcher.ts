import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, request } from 'undici';
import { MonitorConfig } from '@taskq/config';
import { computeBackoffDelay, type BackoffPolicy } from '@taskq/contracts';
import { TaskqMetrics, throttledLog } from '@taskq/observability';
import { CallbackStore, TaskQueries, toTaskView, type ClaimedCallback } from '@taskq/persistence';
import { assertPublicHost, forbiddenAddressIn, publicOnlyLookup } from '@taskq/tasks';
import { signatureHeader } from './callback-signature';

/** A receiver has this long to answer one delivery. */
export const CALLBACK_TIMEOUT_MS = 10_000;
/** Deliveries are tried for this long after the task's terminal state, then given up (`failed`). */
export const CALLBACK_RETRY_WINDOW_MS = 24 * 3_600_000;
const MAX_RETRY_DELAY_MS = 3_600_000;
const ERROR_EXCERPT = 300;
/** The pending gauge is a count over the outbox: cheap on its partial index, but not worth making on every poll. */
const PENDING_COUNT_INTERVAL_MS = 15_000;

/**
 * Delivers the completion callbacks tasks owe: claims due deliveries (a lease, so several
 * monitors share the work and a killed one's deliveries are taken over), POSTs the task view
 * signed with its tenant's secret, and records every try. A 2xx delivers; anything else is
 * tried again with exponential backoff and full jitter, for up to 24 h.
 */
@Injectable()
export class CallbackDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Callbacks');
  private readonly logTrouble = throttledLog((message) => this.logger.warn(message));
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  /** Ids of the deliveries this process is making: a lease shorter than a slow answer must not make it send one twice. */
  private readonly delivering = new Set<string>();
  private readonly backoff: BackoffPolicy;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private polling = false;
  private pendingCountedAt = 0;

  constructor(
    private readonly config: MonitorConfig,
    private readonly callbacks: CallbackStore,
    private readonly queries: TaskQueries,
    private readonly metrics: TaskqMetrics,
  ) {
    this.agent = new Agent(config.webhookAllowPrivate ? {} : { connect: { lookup: publicOnlyLookup } });
    this.backoff = { type: 'exponential', delayMs: config.callbackRetryBaseMs, maxDelayMs: MAX_RETRY_DELAY_MS, jitter: 'full' };
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  /** Stops claiming, then waits for the deliveries in flight (each ends within its request deadline). */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  /** Claims what is due, up to the free delivery slots, and starts delivering. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const free = this.config.callbackConcurrency - this.inFlight.size;
      const claimed = free > 0 ? await this.callbacks.claimDue(free, this.config.callbackLeaseMs) : [];
      for (const callback of claimed) {
        if (this.delivering.has(callback.id)) continue;
        this.delivering.add(callback.id);
        this.track(this.deliver(callback).finally(() => this.delivering.delete(callback.id)));
      }
      await this.countPending();
      // A full claim means more may be due: look again at once.
      this.schedule(claimed.length > 0 && claimed.length === free ? 0 : this.config.callbackPollIntervalMs);
    } catch (error) {
      this.logTrouble(`callbacks could not be claimed: ${(error as Error).message}`);
      this.schedule(this.config.callbackPollIntervalMs);
    } finally {
      this.polling = false;
    }
  }

  private async countPending(): Promise<void> {
    if (Date.now() - this.pendingCountedAt < PENDING_COUNT_INTERVAL_MS) return;
    this.pendingCountedAt = Date.now();
    try {
      this.metrics.callbacksPending.set(await this.callbacks.pendingCount());
    } catch (error) {
      this.logTrouble(`pending callbacks could not be counted: ${(error as Error).message}`);
    }
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => {
      this.inFlight.delete(delivery);
      if (!this.stopped && !this.polling && this.inFlight.size === 0) this.schedule(0);
    });
  }

  private async deliver(callback: ClaimedCallback): Promise<void> {
    const attempt = callback.attempts + 1;
    const at = new Date();
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const task = await this.queries.findTask(callback.taskId);
      if (!task) throw new Error('the task no longer exists');
      const { callback: _owed, ...view } = toTaskView(task);
      const body = JSON.stringify(view);
      const url = new URL(callback.url);
      if (!this.config.webhookAllowPrivate) assertPublicHost(url.hostname);
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'taskq-callbacks',
          'taskq-event': callback.event,
          'taskq-delivery': callback.id,
          'taskq-signature': signatureHeader(await this.callbacks.signingSecrets(callback.tenant), body, at),
        },
        body,
      });
      statusCode = response.statusCode;
      const answer = await response.body.text().catch(() => '');
      if (statusCode < 200 || statusCode >= 300) error = `answered ${statusCode}: ${answer.slice(0, ERROR_EXCERPT)}`;
    } catch (failure) {
      error = describe(failure);
    }
    const delivered = error === null;
    const retryAt = new Date(Date.now() + computeBackoffDelay(this.backoff, attempt));
    const next = delivered || retryAt.getTime() - callback.createdAt.getTime() > CALLBACK_RETRY_WINDOW_MS ? null : retryAt;
    const outcome = delivered ? 'delivered' : next ? 'retry' : 'failed';
    try {
      await this.callbacks.recordAttempt({ id: callback.id, attempt, at, statusCode, error, durationMs: Date.now() - started, delivered, next });
      this.metrics.callbackDeliveries.inc({ outcome });
      if (outcome === 'failed') this.logger.warn(`callback ${callback.id} of task ${callback.taskId} to ${callback.url} failed for good after ${attempt} tries: ${error}`);
    } catch (failure) {
      // Not recorded: the lease runs out and the delivery is made again (receivers dedupe by Taskq-Delivery).
      this.logTrouble(`callback ${callback.id}: try ${attempt} (${outcome}) not recorded: ${(failure as Error).message}`);
    }
  }
}

function describe(error: unknown): string {
  const forbidden = forbiddenAddressIn(error);
  if (forbidden) return `refused: ${forbidden.message} (set WEBHOOK_ALLOW_PRIVATE=true to allow private targets)`;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${CALLBACK_TIMEOUT_MS} ms`;
  return error instanceof Error ? error.message : String(error);
}
