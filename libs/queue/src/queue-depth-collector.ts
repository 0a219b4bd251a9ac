import { Logger } from '@nestjs/common';
import type { JobState } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { TASK_TYPE_NAMES } from '@taskq/contracts';
import type { DeadLetterMirror } from './dead-letter-queue';
import { countJobs, type CountingQueue } from './job-counts';
import type { TaskProducer } from './task-producer';

/** Every state a BullMQ 6 job can be in. */
export const JOB_STATES: readonly JobState[] = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'failed', 'completed'];

export interface QueueDepthSources {
  /** One queue per task type. */
  tasks: Array<{ type: string; queue: CountingQueue }>;
  /** The dead-letter mirror queue, if this process should report it. */
  deadLetter?: CountingQueue;
}

interface DepthReading {
  tasks: Array<{ type: string; counts: Record<string, number> }>;
  deadLetter: Record<string, number> | undefined;
  complete: boolean;
}

/**
 * Queue depth gauges, read from BullMQ at each scrape. A read that fails or exceeds
 * `timeoutMs` (Redis down or slow) leaves its series out of that scrape and sets
 * `taskq_queue_depth_up` to 0: /metrics itself keeps answering.
 */
export class QueueDepthCollector {
  private readonly logger = new Logger('Metrics');
  private inFlight?: Promise<DepthReading>;
  private reachable = true;

  constructor(
    /** The app's metrics (a TaskqMetrics): only its registry is used, so this lib needs no observability import. */
    metrics: { readonly registry: Registry },
    private readonly sources: QueueDepthSources,
    private readonly timeoutMs = 1_000,
  ) {
    // prom-client calls collect() with the gauge as `this`.
    const read = (): Promise<DepthReading> => this.read();
    new Gauge({
      name: 'taskq_queue_jobs',
      help: 'Jobs in each task-type queue by BullMQ state (completed and failed are bounded by the retention of finished jobs).',
      labelNames: ['type', 'state'] as const,
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const { type, counts } of (await read()).tasks) {
          for (const state of JOB_STATES) this.set({ type, state }, counts[state] ?? 0);
        }
      },
    });
    if (sources.deadLetter) {
      // Labelled so the series can go missing in an outage (an unlabelled gauge always shows a value).
      new Gauge({
        name: 'taskq_dead_letter_jobs',
        help: 'Jobs in the dead-letter mirror queue by BullMQ state (they wait there; PostgreSQL keeps the record of dead tasks).',
        labelNames: ['state'] as const,
        registers: [metrics.registry],
        async collect() {
          this.reset();
          const { deadLetter } = await read();
          if (deadLetter) for (const state of JOB_STATES) this.set({ state }, deadLetter[state] ?? 0);
        },
      });
    }
    new Gauge({
      name: 'taskq_queue_depth_up',
      help: '1 if every queue depth was read from Redis at this scrape, 0 if some could not be (their series are missing).',
      registers: [metrics.registry],
      async collect() {
        this.set((await read()).complete ? 1 : 0);
      },
    });
  }

  /** The task queues of a producer, plus the dead-letter mirror. */
  static sourcesOf(producer: TaskProducer, deadLetters?: DeadLetterMirror): QueueDepthSources {
    return {
      tasks: TASK_TYPE_NAMES.map((type) => ({ type, queue: producer.queue(type) })),
      ...(deadLetters ? { deadLetter: deadLetters.queue } : {}),
    };
  }

  /** One read per scrape, shared by the gauges (prom-client collects them concurrently). */
  private read(): Promise<DepthReading> {
    this.inFlight ??= this.readAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async readAll(): Promise<DepthReading> {
    const failures: string[] = [];
    const attempt = (what: string, queue: CountingQueue): Promise<Record<string, number> | undefined> =>
      countJobs(queue, JOB_STATES, this.timeoutMs).catch((error: Error) => {
        failures.push(`${what}: ${error.message}`);
        return undefined;
      });
    const mirror = this.sources.deadLetter;
    const [tasks, deadLetter] = await Promise.all([
      Promise.all(this.sources.tasks.map(async ({ type, queue }) => ({ type, counts: await attempt(type, queue) }))),
      mirror ? attempt('dead-letter', mirror) : undefined,
    ]);
    this.noteReachability(failures);
    return {
      tasks: tasks.flatMap(({ type, counts }) => (counts ? [{ type, counts }] : [])),
      deadLetter,
      complete: failures.length === 0,
    };
  }

  /** Logs when reads start and stop failing, not at every scrape. */
  private noteReachability(failures: string[]): void {
    if (failures.length > 0 && this.reachable) this.logger.warn(`queue depths unavailable (${failures[0]}); their gauges are left out until Redis answers`);
    if (failures.length === 0 && !this.reachable) this.logger.log('queue depths available again');
    this.reachable = failures.length === 0;
  }
}
