import { Injectable, Logger } from '@nestjs/common';
import { ApiConfig } from '@taskq/config';
import {
  TASK_TYPE_NAMES,
  isTaskType,
  validatePayload,
  type CreateScheduleDto,
  type ScheduleList,
  type ScheduleView,
  type SubmitTaskResponse,
  type UpdateScheduleDto,
} from '@taskq/contracts';
import { ScheduleStore, isoOf, type ScheduleChanges, type ScheduleEntity, type ScheduleFields } from '@taskq/persistence';
import { QueueUnavailableError, ScheduleQueue } from '@taskq/queue';
import { TaskAdmission, prepareScheduleRun, privateTargetProblem } from '@taskq/tasks';
import { ProblemException, problemType } from '../errors/problem.exception';
import { toScheduleView } from './schedule-view.mapper';

const notFound = (name: string): ProblemException => ProblemException.notFound(`No schedule named "${name}".`);

/**
 * Recurring schedules. PostgreSQL holds them; Redis holds a BullMQ job scheduler per enabled
 * one. Every change writes both inside one PostgreSQL transaction: when Redis refuses, the
 * row rolls back and the client gets a 503, so the two never disagree for long (and the
 * monitor's periodic re-sync mends what a lost reply could leave behind).
 */
@Injectable()
export class SchedulesService {
  private readonly logger = new Logger(SchedulesService.name);

  constructor(
    private readonly store: ScheduleStore,
    private readonly queue: ScheduleQueue,
    private readonly config: ApiConfig,
    private readonly admission: TaskAdmission,
  ) {}

  async list(): Promise<ScheduleList> {
    const schedules = await this.guardStore(() => this.store.list());
    const nextRuns = await this.guardQueue(() => this.queue.nextRuns());
    return { items: schedules.map((schedule) => toScheduleView(schedule, nextRuns.get(schedule.name) ?? null)) };
  }

  async get(name: string): Promise<ScheduleView> {
    const schedule = await this.guardStore(() => this.store.find(name));
    if (!schedule) throw notFound(name);
    return toScheduleView(schedule, schedule.enabled ? await this.guardQueue(() => this.queue.nextRun(name)) : null);
  }

  async create(request: CreateScheduleDto, tenant: string): Promise<ScheduleView> {
    const fields = await this.validated({
      cron: request.cron,
      tz: request.tz ?? null,
      type: request.type,
      payload: request.payload,
      enabled: request.enabled ?? true,
      callbackUrl: request.callbackUrl ?? null,
    });
    return this.change(request.name, async (changes) => {
      const schedule = await changes.insert({ name: request.name, tenant, ...fields }, new Date());
      if (!schedule) {
        throw new ProblemException({ type: problemType('schedule-exists'), title: 'Conflict', status: 409, detail: `A schedule named "${request.name}" already exists.` });
      }
      return toScheduleView(schedule, await this.mirror(schedule));
    });
  }

  /** Partial: absent fields keep their value; the result is validated as a whole. */
  async update(name: string, request: UpdateScheduleDto): Promise<ScheduleView> {
    if (Object.values(request).every((value) => value === undefined)) {
      throw ProblemException.validation([], 'Nothing to change: give at least one of cron, tz, type, payload, enabled and callbackUrl.');
    }
    return this.change(name, async (changes) => {
      const current = await changes.findForUpdate(name);
      if (!current) throw notFound(name);
      const fields = await this.validated({
        cron: request.cron ?? current.cron,
        tz: request.tz === undefined ? current.tz : request.tz,
        type: request.type ?? current.type,
        payload: request.payload ?? current.payload,
        enabled: request.enabled ?? current.enabled,
        callbackUrl: request.callbackUrl === undefined ? current.callbackUrl : request.callbackUrl,
      });
      const schedule = await changes.update(name, fields, new Date());
      if (!schedule) throw notFound(name);
      return toScheduleView(schedule, await this.mirror(schedule));
    });
  }

  /** `PATCH` with `enabled: false`: the row is kept and its job scheduler removed. */
  pause(name: string): Promise<ScheduleView> {
    return this.update(name, { enabled: false });
  }

  /** `PATCH` with `enabled: true`: its job scheduler is registered again. */
  resume(name: string): Promise<ScheduleView> {
    return this.update(name, { enabled: true });
  }

  /**
   * Submits one task from the schedule now, as its cron runs do (libs/tasks: prepared from
   * the schedule, then admitted: stored, then queued). A paused schedule runs too: this is an
   * operator's explicit request. Each call creates a task: there is no due time to key it on.
   */
  async runNow(name: string): Promise<SubmitTaskResponse> {
    const schedule = await this.guardStore(() => this.store.find(name));
    if (!schedule) throw notFound(name);
    const now = new Date();
    const prepared = await prepareScheduleRun(schedule, { idempotencyKey: null, now });
    if (!prepared.ok) {
      // Its type's payload rules changed since it was saved: a PATCH with a valid payload mends it.
      throw new ProblemException({
        type: problemType('schedule-invalid'),
        title: 'Conflict',
        status: 409,
        detail: `Schedule "${name}" cannot create its task: ${prepared.errors.map((error) => `${error.field}: ${error.messages.join('; ')}`).join(', ')}. Change it with PATCH /schedules/${name}.`,
      });
    }
    try {
      await this.admission.admitOne(prepared.task);
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw ProblemException.unavailable(`The queue (Redis) is unavailable; schedule "${name}" created no task. Retry later.`, error);
      throw ProblemException.unavailable(`The task store (PostgreSQL) is unavailable; schedule "${name}" created no task. Retry later.`, error);
    }
    // The task is accepted: a failure to note the run must not turn its 202 into an error (a retry would make a second task).
    await this.store.recordRun(name, now).catch((error: Error) => this.logger.warn(`schedule ${name} ran now, but its last run time was not recorded: ${error.message}`));
    const { id, type, status, createdAt } = prepared.task;
    return { id, type, status, createdAt: isoOf(createdAt) };
  }

  /** Tasks the schedule already created stay, with their schedule name. */
  async delete(name: string): Promise<void> {
    await this.change(name, async (changes) => {
      const schedule = await changes.delete(name);
      if (!schedule) throw notFound(name);
      await this.queue.unregister(name);
    });
  }

  /** Makes Redis match the row: a job scheduler while enabled, none while disabled. */
  private async mirror(schedule: ScheduleEntity): Promise<Date | null> {
    if (schedule.enabled) return this.queue.register(schedule);
    await this.queue.unregister(schedule.name);
    return null;
  }

  /** `type` and `payload` are checked like a task submission's; the payload is stored normalised. */
  private async validated(fields: ScheduleFields): Promise<ScheduleFields> {
    if (!isTaskType(fields.type)) {
      throw ProblemException.validation(
        [{ field: 'type', messages: [`type must be one of: ${TASK_TYPE_NAMES.join(', ')}`] }],
        `Unknown task type "${fields.type}". Valid types: ${TASK_TYPE_NAMES.join(', ')}.`,
      );
    }
    const validation = await validatePayload(fields.type, fields.payload);
    if (!validation.valid) throw ProblemException.validation(validation.errors);
    const callbackProblem = fields.callbackUrl && !this.config.webhookAllowPrivate ? privateTargetProblem(fields.callbackUrl) : null;
    if (callbackProblem) throw ProblemException.validation([{ field: 'callbackUrl', messages: [callbackProblem] }]);
    return { ...fields, payload: validation.payload };
  }

  /** One transaction for the row and its job scheduler: both change, or neither. */
  private async change<T>(name: string, work: (changes: ScheduleChanges) => Promise<T>): Promise<T> {
    try {
      return await this.store.change(work);
    } catch (error) {
      if (error instanceof ProblemException) throw error;
      if (error instanceof QueueUnavailableError) {
        throw ProblemException.unavailable(`The queue (Redis) is unavailable; schedule "${name}" was not changed. Retry later.`, error);
      }
      // PostgreSQL failed, maybe after Redis had changed (a lost COMMIT): put Redis back to what PostgreSQL says.
      await this.restoreScheduler(name);
      throw ProblemException.unavailable(`The schedule store (PostgreSQL) is unavailable; schedule "${name}" was not changed. Retry later.`, error);
    }
  }

  private async restoreScheduler(name: string): Promise<void> {
    try {
      const schedule = await this.store.find(name);
      if (schedule?.enabled) await this.queue.register(schedule);
      else await this.queue.unregister(name);
    } catch (error) {
      this.logger.warn(`schedule ${name} may differ in Redis until the monitor's next re-sync: ${(error as Error).message}`);
    }
  }

  private async guardStore<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw ProblemException.unavailable('The schedule store (PostgreSQL) is unavailable. Retry later.', error);
    }
  }

  private async guardQueue<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw ProblemException.unavailable('The queue (Redis) is unavailable, so the next runs are unknown. Retry later.', error);
    }
  }
}
