import { Injectable, Logger } from '@nestjs/common';
import { SubmitTaskDto, TASK_TYPE_NAMES, validDtoNow, validateDto, type BulkSubmitDto, type FieldError, type SubmitTaskResponse, type TaskType } from '@taskq/contracts';
import { TaskqMetrics, appLogLevelEnabled } from '@taskq/observability';
import { ApiConfig } from '@taskq/config';
import type { Counter } from 'prom-client';
import { TaskQueries, isoOf, type TaskEntity } from '@taskq/persistence';
import { QueueUnavailableError } from '@taskq/queue';
import { TaskAdmission, bulkRequestHash, prepareTask, prepareTaskNow, requestHash, type PreparationContext, type PreparedTask } from '@taskq/tasks';
import { ProblemException, problemType } from '../errors/problem.exception';
import { BacklogGate } from './backlog-gate';

type BulkAnswer = { kind: 'new'; task: PreparedTask } | { kind: 'replay'; task: SubmitTaskResponse };

export interface Submission {
  /** true: an earlier request with the same idempotency key created this task (answer 200). */
  replayed: boolean;
  task: SubmitTaskResponse;
}

export interface BulkSubmission {
  /** true: earlier requests created every one of these tasks (answer 200). */
  replayed: boolean;
  tasks: SubmitTaskResponse[];
}

/**
 * The idempotency key of task `index` of a bulk request sent with `Idempotency-Key: key`.
 * WARNING: stored in PostgreSQL (tasks.idempotency_key): a changed format stops replays of
 * requests made before the change from finding their tasks.
 */
export const bulkTaskKey = (key: string, index: number): string => `${key}:${index}`;


const response = (task: { id: string; type: string; status: string; createdAt: Date | string }): SubmitTaskResponse => ({
  id: task.id,
  type: task.type,
  status: task.status,
  createdAt: typeof task.createdAt === 'string' ? task.createdAt : isoOf(task.createdAt),
});

const storeUnavailable = (error: unknown): ProblemException =>
  ProblemException.unavailable('The task store (PostgreSQL) is unavailable; nothing was stored. Retry later.', error);

/** An admission failed: Redis refused the jobs (the tasks were withdrawn), or PostgreSQL did not store them. */
const admissionRefused = (error: unknown): ProblemException =>
  error instanceof QueueUnavailableError
    ? ProblemException.unavailable('The queue (Redis) is unavailable; nothing was accepted. Retry later.', error)
    : storeUnavailable(error);

const keyReused = (taskId: string): ProblemException =>
  new ProblemException({
    type: problemType('idempotency-key-reused'),
    title: 'Idempotency key reused',
    status: 422,
    detail: `The idempotency key was first used for task ${taskId} with a different request body.`,
  });

/**
 * Accepting work: validate, answer a replayed idempotency key, check the backlog, then admit
 * (libs/tasks: commit to PostgreSQL, then queue in Redis). A 202 therefore means the task is
 * on record; if queueing fails the rows are withdrawn and the client gets a 503, so nobody
 * holds the id of a task that will never run.
 */
@Injectable()
export class TaskSubmissionService {
  private readonly logger = new Logger(TaskSubmissionService.name);
  /** Read once: at LOG_LEVEL=info and above, an accepted task costs no log call. */
  private readonly logsDebug = appLogLevelEnabled('debug');
  private readonly submitted = new Map<TaskType, Counter.Internal>();

  constructor(
    private readonly admission: TaskAdmission,
    private readonly queries: TaskQueries,
    private readonly backlog: BacklogGate,
    private readonly metrics: TaskqMetrics,
    private readonly config: ApiConfig,
  ) {}

  /** `tenant`: the submitting key's; the task belongs to it, and so does the idempotency key. */
  async submit(request: SubmitTaskDto, headerKey: string | undefined, tenant: string): Promise<Submission> {
    const key = headerKey ?? request.idempotencyKey ?? null;
    const context = { tenant, idempotencyKey: key, now: new Date(), allowPrivateCallbacks: this.config.webhookAllowPrivate };
    const prepared = prepareTaskNow(request, context) ?? (await prepareTask(request, context));
    if (!prepared.ok) {
      if (prepared.unknownType !== undefined) {
        throw ProblemException.validation(prepared.errors, `Unknown task type "${prepared.unknownType}". Valid types: ${TASK_TYPE_NAMES.join(', ')}.`);
      }
      throw ProblemException.validation(prepared.errors);
    }
    const task = prepared.task;
    if (key) {
      const earlier = await this.guard(() => this.queries.findByIdempotencyKey(tenant, key));
      if (earlier) return this.replay(earlier, request);
    }
    // After the replay check: a full queue refuses new work, not the answer to work already accepted.
    const admitting = this.backlog.admit(task.type);
    if (admitting) await admitting;
    let admitted: boolean;
    try {
      admitted = await this.admission.admitOne(task);
    } catch (error) {
      throw admissionRefused(error);
    }
    if (!admitted) {
      // A concurrent request with the same key won the insert.
      const winner = key ? await this.guard(() => this.queries.findByIdempotencyKey(tenant, key)) : null;
      if (winner) return this.replay(winner, request);
      throw ProblemException.unavailable('The task could not be stored. Retry later.');
    }
    this.accepted(task.type, task.id);
    return { replayed: false, task: response(task) };
  }

  /**
   * All tasks are validated first and one invalid task rejects the whole request, naming
   * every failing index. Idempotency keys work per task, as for single submissions. With
   * `headerKey` (the request's `Idempotency-Key`), task i gets the key `<headerKey>:<i>`
   * (over its own `idempotencyKey`), and every task carries the hash of the whole request: a
   * replay of the same tasks answers with the original ones, any other body with the key is a 422.
   */
  async submitBulk(request: BulkSubmitDto, tenant: string, headerKey?: string): Promise<BulkSubmission> {
    const now = new Date();
    const wholeRequest = headerKey === undefined ? undefined : bulkRequestHash(request.tasks);
    const errors: FieldError[] = [];
    const prepared: PreparedTask[] = [];
    for (const [index, raw] of request.tasks.entries()) {
      // Most tasks pass the fast validators at once; the others are checked again for their errors.
      let value = validDtoNow(SubmitTaskDto, raw);
      if (!value) {
        const checked = await validateDto(SubmitTaskDto, raw, `tasks.${index}`);
        if (checked.errors.length > 0) {
          errors.push(...checked.errors);
          continue;
        }
        value = checked.value;
      }
      const context: PreparationContext =
        headerKey === undefined || wholeRequest === undefined
          ? { tenant, idempotencyKey: value.idempotencyKey ?? null, now, allowPrivateCallbacks: this.config.webhookAllowPrivate }
          : { tenant, idempotencyKey: bulkTaskKey(headerKey, index), now, requestHash: wholeRequest, allowPrivateCallbacks: this.config.webhookAllowPrivate };
      const result = prepareTaskNow(value, context) ?? (await prepareTask(value, context));
      if (result.ok) prepared.push(result.task);
      else errors.push(...result.errors.map((error) => ({ field: `tasks.${index}.${error.field}`, messages: error.messages })));
    }
    if (errors.length > 0) {
      const indexes = [...new Set(errors.map((error) => Number(error.field.split('.')[1])))];
      throw ProblemException.validation(errors, `No task was accepted: tasks ${indexes.join(', ')} are invalid (see errors[]).`);
    }

    // Keys seen before (in PostgreSQL or earlier in this request) answer with the original task.
    const keys = prepared.flatMap((task) => (task.idempotencyKey ? [task.idempotencyKey] : []));
    const originals = new Map<string | null, Pick<TaskEntity, 'id' | 'type' | 'status' | 'createdAt' | 'requestHash'>>(
      (await this.guard(() => this.queries.findByIdempotencyKeys(tenant, keys))).map((task) => [task.idempotencyKey, task]),
    );
    const answers: BulkAnswer[] = prepared.map((task) => {
      const original = task.idempotencyKey ? originals.get(task.idempotencyKey) : undefined;
      if (!original) {
        if (task.idempotencyKey) originals.set(task.idempotencyKey, task);
        return { kind: 'new', task };
      }
      if (original.requestHash !== task.requestHash) throw keyReused(original.id);
      return { kind: 'replay', task: response(original) };
    });

    const fresh = answers.flatMap((answer) => (answer.kind === 'new' ? [answer.task] : []));
    const adding = new Map<TaskType, number>();
    for (const task of fresh) adding.set(task.type, (adding.get(task.type) ?? 0) + 1);
    await this.backlog.admitAll(adding);
    let inserted: boolean[];
    try {
      inserted = await this.admission.admit(fresh);
    } catch (error) {
      throw admissionRefused(error);
    }
    const created = fresh.filter((_, index) => inserted[index]);
    for (const task of created) this.accepted(task.type, task.id);
    // A concurrent request took some keys between our check and our insert: its tasks are the answer.
    const lostKeys = fresh.filter((_, index) => !inserted[index]).map((task) => task.idempotencyKey ?? '');
    const winners = new Map((await this.guard(() => this.queries.findByIdempotencyKeys(tenant, lostKeys))).map((task) => [task.idempotencyKey, task]));
    const createdIds = new Set(created.map((task) => task.id));
    const tasks = answers.map((answer) => {
      if (answer.kind === 'replay' || createdIds.has(answer.task.id)) return response(answer.task);
      const winner = winners.get(answer.task.idempotencyKey);
      if (!winner) throw ProblemException.unavailable('Some tasks could not be stored. Retry the request with the same idempotency keys.');
      if (winner.requestHash !== answer.task.requestHash) throw keyReused(winner.id);
      return response(winner);
    });
    return { replayed: created.length === 0, tasks };
  }

  private replay(earlier: TaskEntity, request: SubmitTaskDto): Submission {
    if (earlier.requestHash !== requestHash(request)) throw keyReused(earlier.id);
    return { replayed: true, task: response(earlier) };
  }

  /** Stored and queued: counted, and logged with the request's id for tracing. */
  private accepted(type: TaskType, taskId: string): void {
    let counter = this.submitted.get(type);
    if (!counter) {
      counter = this.metrics.tasksSubmitted.labels({ type });
      this.submitted.set(type, counter);
    }
    counter.inc();
    if (this.logsDebug) this.logger.debug({ msg: 'task accepted', taskId, type });
  }

  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      throw storeUnavailable(error);
    }
  }
}
