import { Queue, type Job, type JobSchedulerTemplateOptions } from 'bullmq';
import type { RedisConnection } from './redis-connection';
import { REMOVE_ON_COMPLETE, REMOVE_ON_FAIL } from './task-job';
import { QueueUnavailableError } from './task-producer';

/**
 * WARNING: stored in Redis. Holds one BullMQ job scheduler per enabled schedule, its id the
 * schedule's name; the scheduler's jobs are the runs, which the monitor turns into tasks.
 * PostgreSQL is the record: the API (at start-up) and the monitor (at start-up and then
 * periodically) rebuild these schedulers from it, so they survive a Redis restart.
 */
export const SCHEDULES_QUEUE = '{schedules}';

/**
 * What a run job carries: only the schedule's name. The monitor reads the schedule from
 * PostgreSQL when the run comes, so a change there applies to the next run.
 * WARNING: stored in Redis; keep changes backward compatible with schedulers already registered.
 */
export interface ScheduleRunData {
  schedule: string;
}

/** When a schedule runs: its BullMQ job scheduler holds exactly this. */
export interface ScheduleTiming {
  name: string;
  cron: string;
  /** IANA zone; null: UTC (whatever the processes' local zone). */
  tz: string | null;
}

/** A run whose task cannot be created yet (PostgreSQL or Redis away) is retried. */
const RUN_JOB_OPTIONS: JobSchedulerTemplateOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: REMOVE_ON_COMPLETE,
  removeOnFail: REMOVE_ON_FAIL,
};

/** BullMQ's id of a run job: `repeat:<scheduler id>:<due time in ms>`. */
const RUN_JOB_ID = /^repeat:(.+):(\d+)$/;

/**
 * When the run was due: the slot BullMQ computed from the cron expression, which together
 * with the schedule's name identifies the run (a redelivered run job has the same one).
 */
export function scheduledTimeOf(job: Pick<Job<ScheduleRunData>, 'id' | 'opts'>): Date {
  const fromId = RUN_JOB_ID.exec(job.id ?? '')?.[2];
  const millis = job.opts.prevMillis ?? (fromId === undefined ? undefined : Number(fromId));
  if (millis === undefined || !Number.isFinite(millis)) throw new Error(`job ${job.id ?? '?'} is not a run of a job scheduler`);
  return new Date(millis);
}

/**
 * The zone a schedule's cron expression is read in. Always explicit: without one, cron-parser
 * would use the local zone of whichever process computes the next run (API or monitor).
 */
const zoneOf = (timing: ScheduleTiming): string => timing.tz ?? 'UTC';

const sameTiming = (registered: { pattern?: string; tz?: string }, wanted: ScheduleTiming): boolean =>
  registered.pattern === wanted.cron && registered.tz === zoneOf(wanted);

/** The schedules' BullMQ job schedulers. Every Redis failure is a {@link QueueUnavailableError}. */
export class ScheduleQueue {
  readonly queue: Queue<ScheduleRunData>;

  /** `ownsConnection`: close() also closes the connection (it was made for this queue). */
  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
    private readonly ownsConnection = false,
  ) {
    this.queue = new Queue<ScheduleRunData>(SCHEDULES_QUEUE, { connection, prefix, skipWaitingForReady: true });
    this.queue.on('error', () => undefined);
  }

  /** Creates or replaces the schedule's job scheduler; resolves with its next run. */
  async register(timing: ScheduleTiming): Promise<Date | null> {
    const next = await this.redis(`register schedule ${timing.name}`, () =>
      this.queue.upsertJobScheduler(
        timing.name,
        { pattern: timing.cron, tz: zoneOf(timing) },
        { name: timing.name, data: { schedule: timing.name }, opts: RUN_JOB_OPTIONS },
      ),
    );
    const millis = next?.opts.prevMillis;
    return millis === undefined ? null : new Date(millis);
  }

  /** Removes the schedule's job scheduler and its pending run, if any. */
  async unregister(name: string): Promise<void> {
    await this.redis(`remove schedule ${name}`, () => this.queue.removeJobScheduler(name));
  }

  /** The next run of one schedule; null when it has no job scheduler. */
  async nextRun(name: string): Promise<Date | null> {
    const scheduler = await this.redis(`read schedule ${name}`, () => this.queue.getJobScheduler(name));
    return scheduler?.next ? new Date(scheduler.next) : null;
  }

  /** The next run of every registered schedule, by name. */
  async nextRuns(): Promise<Map<string, Date>> {
    const schedulers = await this.redis('read the schedules', () => this.queue.getJobSchedulers(0, -1));
    return new Map(schedulers.flatMap((scheduler) => (scheduler.next ? [[scheduler.key, new Date(scheduler.next)] as const] : [])));
  }

  /**
   * Makes Redis hold exactly one job scheduler per given schedule, with its cron expression
   * and zone: registers the missing and changed ones and removes the rest. Schedulers that
   * are already right are left alone, so their pending run keeps its slot.
   */
  async sync(enabled: ScheduleTiming[]): Promise<{ registered: string[]; removed: string[] }> {
    const schedulers = await this.redis('read the schedules', () => this.queue.getJobSchedulers(0, -1));
    const existing = new Map(schedulers.map((scheduler) => [scheduler.key, scheduler]));
    const wanted = new Set(enabled.map((timing) => timing.name));
    const registered: string[] = [];
    for (const timing of enabled) {
      const scheduler = existing.get(timing.name);
      if (scheduler?.next && sameTiming(scheduler, timing)) continue;
      await this.register(timing);
      registered.push(timing.name);
    }
    const removed = [...existing.keys()].filter((name) => !wanted.has(name));
    for (const name of removed) await this.unregister(name);
    return { registered, removed };
  }

  async close(): Promise<void> {
    await this.queue.close();
    if (this.ownsConnection) await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private async redis<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new QueueUnavailableError(`could not ${what} in Redis: ${(error as Error).message}`);
    }
  }
}

/** A schedule as the store lists it: its timing and whether it is enabled. */
export interface StoredScheduleTiming extends ScheduleTiming {
  enabled: boolean;
}

/**
 * What {@link resyncSchedules} needs of the schedules' record (@taskq/persistence's
 * ScheduleStore, described here so that this library does not depend on that one).
 */
export interface ScheduleRecord {
  change<T>(work: (changes: { list(): Promise<StoredScheduleTiming[]> }) => Promise<T>): Promise<T>;
}

/**
 * Makes Redis's job schedulers equal to the enabled schedules of the record (see
 * {@link ScheduleQueue.sync}), inside one schedule change: no change can happen half-way
 * through. Every Redis failure is a {@link QueueUnavailableError}.
 */
export function resyncSchedules(record: ScheduleRecord, queue: ScheduleQueue): Promise<{ registered: string[]; removed: string[] }> {
  return record.change(async (changes) => queue.sync((await changes.list()).filter((schedule) => schedule.enabled)));
}
