import { Injectable } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { TaskStatus } from '@taskq/contracts';
import { ScheduleStore, TaskQueries } from '@taskq/persistence';
import { TaskProducer, scheduledTimeOf, type ScheduleRunData } from '@taskq/queue';
import { TaskAdmission, jobSpecFor, prepareScheduleRun } from '@taskq/tasks';

/**
 * The idempotency key of the task a run creates: one task per schedule and due time, however
 * often the run job is delivered. The spaces keep these keys apart from the ones clients
 * send (printable ASCII without spaces), so no client can take a run's key.
 * WARNING: stored in PostgreSQL (tasks.idempotency_key): changing the format lets a run
 * redelivered across the upgrade create a second task.
 */
export function scheduleRunKey(scheduleName: string, dueAt: Date): string {
  return `schedule ${scheduleName} ${dueAt.toISOString()}`;
}

/** What a run did; kept as the run job's return value (visible in Bull Board). */
export type RunOutcome = { taskId: string; created: boolean } | { skipped: string };

/**
 * Turns one run of a schedule into an ordinary task, created exactly as a submission would be
 * (payload validated, the type's defaults), with the schedule's name on it.
 */
@Injectable()
export class ScheduleRunner {
  constructor(
    private readonly schedules: ScheduleStore,
    private readonly admission: TaskAdmission,
    private readonly queries: TaskQueries,
    private readonly producer: TaskProducer,
  ) {}

  async run(job: Pick<Job<ScheduleRunData>, 'id' | 'opts' | 'data'>): Promise<RunOutcome> {
    const name = job.data.schedule;
    const dueAt = scheduledTimeOf(job);
    // The current row decides: a change made since the scheduler was registered applies now.
    const schedule = await this.schedules.find(name);
    if (!schedule) return { skipped: `schedule ${name} does not exist` };
    if (!schedule.enabled) return { skipped: `schedule ${name} is disabled` };

    const key = scheduleRunKey(name, dueAt);
    const now = new Date();
    const prepared = await prepareScheduleRun(schedule, { idempotencyKey: key, now });
    if (!prepared.ok) {
      // The stored task no longer validates (its type's payload rules changed): retrying cannot help.
      const reasons = prepared.errors.map((error) => `${error.field}: ${error.messages.join('; ')}`).join(', ');
      throw new UnrecoverableError(`schedule ${name} cannot create its task: ${reasons}`);
    }
    // Without its job the task would never run: admission takes it back then, and the run job retries.
    if (await this.admission.admitOne(prepared.task)) {
      await this.schedules.recordRun(name, now);
      return { taskId: prepared.task.id, created: true };
    }
    return this.redelivered(name, schedule.tenant, key);
  }

  /**
   * The run's task exists: this run job was delivered before. Its task job may be missing if
   * that delivery stopped half-way; adding it again is a no-op when it is there.
   */
  private async redelivered(name: string, tenant: string, key: string): Promise<RunOutcome> {
    const task = await this.queries.findByIdempotencyKey(tenant, key);
    if (!task) throw new Error(`the task of run "${key}" could not be stored`);
    if (task.status === TaskStatus.Queued && task.attemptsMade === 0) {
      const [queueable] = await this.queries.unfinishedTasks([task.id]);
      if (queueable) await this.producer.enqueue(jobSpecFor(queueable));
    }
    await this.schedules.recordRun(name, task.createdAt);
    return { taskId: task.id, created: false };
  }
}
