import type { DataSource, Repository } from 'typeorm';
import type { ReportTypeStats, TaskStatus } from '@taskq/contracts';
import { TaskEntity } from './entities';
import { byRegistration, ofRegisteredTypes, queueableTaskColumns, type QueueableTask } from './queueable-task';
import { UNFINISHED_STATUSES_SQL } from './status-sql';
import type { UnfinishedTaskPage, UnfinishedTaskPageQuery, UnfinishedTaskRef } from './unfinished-task';

export interface TaskListFilter {
  /** Only this tenant's tasks; undefined: every tenant's. */
  tenant?: string;
  status?: TaskStatus;
  type?: string;
  /** Only the tasks this recurring schedule created. */
  scheduleName?: string;
  /** Created at or after this time. */
  createdFrom?: Date;
  /** Created before this time. */
  createdBefore?: Date;
  /** Only the task with this id, or with this idempotency key (exact match). */
  search?: string;
  limit: number;
  cursor?: string;
}

export interface DeadTaskFilter {
  /** Only this tenant's tasks; undefined: every tenant's. */
  tenant?: string;
  type?: string;
  /** Exactly this last error (a dead-letter group). */
  error?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: string;
}

export interface TaskListPage {
  items: TaskEntity[];
  nextCursor: string | null;
}

/** A dead task as alerts describe it. */
export interface DeadTaskSummary {
  id: string;
  type: string;
  error: string | null;
  /** Attempts in all, manual retries included. */
  attempts: number;
  finishedAt: Date;
}

/** What the monitor needs to report a task whose attempt just ended without success. */
export interface TaskFailureState {
  id: string;
  type: string;
  status: TaskStatus;
  lastError: string | null;
  attemptsMade: number;
  finishedAt: Date | null;
  /** Failed, timed-out and lost attempts of the current attempt budget (after the last manual retry), in order. */
  failedAttempts: Array<{ number: number; outcome: 'failed' | 'timed_out' | 'lost'; error: string | null; finishedAt: Date }>;
}

/** A cursor that is not one we issued. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** A keyset position: the sort time (created_at, or finished_at for the DLQ) and the id. */
interface CursorPosition {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Task ids are UUIDs: anything else names no task (and must not reach a uuid cast in SQL). */
export const isTaskId = (id: string): boolean => UUID.test(id);

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.at.toISOString()}|${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  const [time, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(time ?? '');
  if (extra !== undefined || !id || !UUID.test(id) || Number.isNaN(at.getTime())) {
    throw new InvalidCursorError('cursor is not valid: pass back the nextCursor of a previous page');
  }
  return { at, id };
}

function page(rows: TaskEntity[], limit: number, sortTime: (task: TaskEntity) => Date): TaskListPage {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor({ at: sortTime(last), id: last.id }) : null };
}

/**
 * The statements of a search by id or idempotency key ($1), within one tenant ($2) or across
 * all. Keys are unique per tenant only: across all, the tenants are walked one index probe
 * each (a loose index scan of tasks_tenant_created_idx) and each is probed for the key in
 * tasks_tenant_idempotency_key_idx. A handful of index reads however many tasks there are,
 * and no index on the key alone to pay for at every insert.
 */
export function taskSearchStatements(withTenant: boolean): { byKey: string; byId: string } {
  if (withTenant) return { byKey: `SELECT id FROM tasks WHERE tenant = $2 AND idempotency_key = $1`, byId: `SELECT id FROM tasks WHERE id = $1 AND tenant = $2` };
  return {
    byKey: `
      WITH RECURSIVE tenants (name) AS (
        (SELECT tenant FROM tasks ORDER BY tenant LIMIT 1)
        UNION ALL
        SELECT (SELECT t.tenant FROM tasks t WHERE t.tenant > tenants.name ORDER BY t.tenant LIMIT 1) FROM tenants WHERE tenants.name IS NOT NULL
      )
      SELECT t.id FROM tenants JOIN tasks t ON t.tenant = tenants.name AND t.idempotency_key = $1`,
    byId: `SELECT id FROM tasks WHERE id = $1`,
  };
}

/** Read side of the task tables: detail, lists and aggregates. */
export class TaskQueries {
  private readonly tasks: Repository<TaskEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.tasks = dataSource.getRepository(TaskEntity);
  }

  /** The task with its attempts; null when unknown or (with `tenant`) another tenant's. */
  async findTask(id: string, tenant?: string): Promise<TaskEntity | null> {
    if (!UUID.test(id)) return null;
    return this.tasks.findOne({ where: { id, ...(tenant === undefined ? {} : { tenant }) }, relations: { attempts: true }, order: { attempts: { number: 'ASC' } } });
  }

  /**
   * Newest first; keyset pagination on (created_at, id) so pages stay stable under inserts.
   * A search first finds the few tasks it names, and the page is made of those.
   */
  async listTasks(filter: TaskListFilter): Promise<TaskListPage> {
    const query = this.tasks.createQueryBuilder('task').orderBy('task.createdAt', 'DESC').addOrderBy('task.id', 'DESC').limit(filter.limit + 1);
    if (filter.search !== undefined) {
      const ids = await this.idsMatching(filter.search, filter.tenant);
      if (ids.length === 0) return { items: [], nextCursor: null };
      query.andWhere('task.id IN (:...searchIds)', { searchIds: ids });
    }
    if (filter.tenant !== undefined) query.andWhere('task.tenant = :tenant', { tenant: filter.tenant });
    if (filter.status) query.andWhere('task.status = :status', { status: filter.status });
    if (filter.type) query.andWhere('task.type = :type', { type: filter.type });
    if (filter.scheduleName) query.andWhere('task.scheduleName = :scheduleName', { scheduleName: filter.scheduleName });
    if (filter.createdFrom) query.andWhere('task.createdAt >= :createdFrom', { createdFrom: filter.createdFrom });
    if (filter.createdBefore) query.andWhere('task.createdAt < :createdBefore', { createdBefore: filter.createdBefore });
    if (filter.cursor) {
      const position = decodeCursor(filter.cursor);
      query.andWhere('(task.createdAt, task.id) < (:at, :id)', position);
    }
    return page(await query.getMany(), filter.limit, (task) => task.createdAt);
  }

  /**
   * The ids of the tasks `search` names: the task with that id, and the task with that
   * idempotency key in each tenant (see {@link taskSearchStatements}).
   */
  private async idsMatching(search: string, tenant: string | undefined): Promise<string[]> {
    const statements = taskSearchStatements(tenant !== undefined);
    const params = tenant === undefined ? [search] : [search, tenant];
    const rows = (await this.dataSource.query(statements.byKey, params)) as Array<{ id: string }>;
    if (isTaskId(search)) rows.push(...((await this.dataSource.query(statements.byId, params)) as Array<{ id: string }>));
    return [...new Set(rows.map((row) => row.id))];
  }

  /** Idempotency keys are per tenant. */
  async findByIdempotencyKey(tenant: string, key: string): Promise<TaskEntity | null> {
    return this.tasks.findOne({ where: { tenant, idempotencyKey: key } });
  }

  async findByIdempotencyKeys(tenant: string, keys: string[]): Promise<TaskEntity[]> {
    if (keys.length === 0) return [];
    return this.tasks.createQueryBuilder('task').where('task.tenant = :tenant AND task.idempotencyKey IN (:...keys)', { tenant, keys }).getMany();
  }

  /** The dead-letter queue: dead tasks, most recent death first, with keyset pagination. */
  async listDead(filter: DeadTaskFilter): Promise<TaskListPage> {
    const query = this.tasks
      .createQueryBuilder('task')
      .where('task.status = :status', { status: 'dead' })
      .orderBy('task.finishedAt', 'DESC')
      .addOrderBy('task.id', 'DESC')
      .limit(filter.limit + 1);
    if (filter.tenant !== undefined) query.andWhere('task.tenant = :tenant', { tenant: filter.tenant });
    if (filter.type) query.andWhere('task.type = :type', { type: filter.type });
    if (filter.error !== undefined) query.andWhere('task.lastError = :error', { error: filter.error });
    if (filter.from) query.andWhere('task.finishedAt >= :from', { from: filter.from });
    if (filter.to) query.andWhere('task.finishedAt < :to', { to: filter.to });
    if (filter.cursor) query.andWhere('(task.finishedAt, task.id) < (:at, :id)', decodeCursor(filter.cursor));
    return page(await query.getMany(), filter.limit, (task) => task.finishedAt ?? task.updatedAt);
  }

  /** Every dead task, as the dead-letter mirror queue lists them. */
  async deadLetterEntries(): Promise<Array<{ taskId: string; type: string; error: string | null }>> {
    return (await this.dataSource.query(`SELECT id AS "taskId", type, last_error AS error FROM tasks WHERE status = 'dead'`)) as Array<{ taskId: string; type: string; error: string | null }>;
  }

  /** The failure state of each known task among `ids` (ids that are not task ids are ignored). */
  async failureStates(ids: string[]): Promise<TaskFailureState[]> {
    const taskIds = ids.filter(isTaskId);
    if (taskIds.length === 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT t.id, t.type, t.status, t.last_error AS "lastError", t.attempts_made AS "attemptsMade", t.finished_at AS "finishedAt",
              coalesce((SELECT json_agg(json_build_object('number', a.number, 'outcome', a.outcome, 'error', a.error, 'finishedAt', a.finished_at) ORDER BY a.number)
                          FROM task_attempts a
                         WHERE a.task_id = t.id AND a.number > t.attempt_base AND a.outcome IN ('failed', 'timed_out', 'lost')), '[]') AS "failedAttempts"
         FROM tasks t WHERE t.id = ANY($1::uuid[])`,
      [taskIds],
    )) as Array<
      Omit<TaskFailureState, 'failedAttempts'> & { failedAttempts: Array<Omit<TaskFailureState['failedAttempts'][number], 'finishedAt'> & { finishedAt: string }> }
    >;
    // json_agg leaves timestamps as text.
    return rows.map((row) => ({ ...row, failedAttempts: row.failedAttempts.map((a) => ({ ...a, finishedAt: new Date(a.finishedAt) })) }));
  }

  /** Dead tasks that died at or after `from`, earliest first. */
  async deadTasksSince(from: Date, limit: number): Promise<DeadTaskSummary[]> {
    return (await this.dataSource.query(
      `SELECT id, type, last_error AS error, attempts_made AS attempts, finished_at AS "finishedAt" FROM tasks
        WHERE status = 'dead' AND finished_at >= $1 ORDER BY finished_at, id LIMIT $2`,
      [from, limit],
    )) as DeadTaskSummary[];
  }

  /**
   * One page of the unfinished tasks of one status, newest first, for the reconciler. Keyset
   * on (created_at, id) within the status: each page is one short range read of
   * tasks_status_created_idx, however many tasks there are. Only what it takes to look for
   * the job is read; {@link unfinishedTasks} reads the rest for the few that get requeued.
   * created_at is written at millisecond precision (see NewTask), so the key survives its
   * trip through a JavaScript Date.
   */
  async unfinishedTasksPage(query: UnfinishedTaskPageQuery): Promise<UnfinishedTaskPage> {
    const params: unknown[] = [query.status, query.settledBefore, query.limit];
    let where = 'status = $1 AND updated_at < $2';
    if (query.status === 'active') where += ` AND updated_at + timeout_ms * interval '1 millisecond' < $2`;
    if (query.after) {
      params.push(query.after.createdAt, query.after.id);
      where += ' AND (created_at, id) < ($4, $5::uuid)';
    }
    const rows = (await this.dataSource.query(
      `SELECT id, type, status, created_at AS "createdAt", updated_at AS "updatedAt", attempts_made AS "attemptsMade"
         FROM tasks WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $3`,
      params,
    )) as Array<Omit<UnfinishedTaskRef, 'type'> & { type: string }>;
    const { registered, unregistered } = byRegistration(rows);
    const last = rows.at(-1);
    return {
      tasks: registered,
      unregisteredTypes: unregistered.map((row) => row.type),
      ...(rows.length === query.limit && last ? { next: { createdAt: last.createdAt, id: last.id } } : {}),
    };
  }

  /** Those of `ids` that are still unfinished (and of registered types), as their jobs need them, with when they last changed. */
  async unfinishedTasks(ids: string[]): Promise<Array<QueueableTask & { updatedAt: Date }>> {
    const taskIds = ids.filter(isTaskId);
    if (taskIds.length === 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT ${queueableTaskColumns('t')}, t.updated_at AS "updatedAt" FROM tasks t WHERE t.id = ANY($1::uuid[]) AND t.status IN ${UNFINISHED_STATUSES_SQL}`,
      [taskIds],
    )) as Array<QueueableTask & { updatedAt: Date }>;
    return ofRegisteredTypes(rows);
  }

  /** The status of each known task among `ids`, and when it last changed (the reconciler's check of Redis's jobs). */
  async taskStates(ids: string[]): Promise<Array<{ id: string; status: TaskStatus; updatedAt: Date }>> {
    const taskIds = ids.filter(isTaskId);
    if (taskIds.length === 0) return [];
    return (await this.dataSource.query(`SELECT id, status, updated_at AS "updatedAt" FROM tasks WHERE id = ANY($1::uuid[])`, [taskIds])) as Array<{
      id: string;
      status: TaskStatus;
      updatedAt: Date;
    }>;
  }

  /** Counts per type and status of tasks created in [from, to), with attempt duration percentiles. */
  async aggregate(from: Date, to: Date): Promise<ReportTypeStats[]> {
    const counts = (await this.dataSource.query(
      `SELECT type, status, count(*)::int AS count FROM tasks
        WHERE created_at >= $1 AND created_at < $2 GROUP BY type, status ORDER BY type, status`,
      [from, to],
    )) as Array<{ type: string; status: string; count: number }>;
    const durations = (await this.dataSource.query(
      `SELECT t.type,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95
         FROM task_attempts a JOIN tasks t ON t.id = a.task_id
        WHERE t.created_at >= $1 AND t.created_at < $2 AND a.outcome = 'completed'
        GROUP BY t.type`,
      [from, to],
    )) as Array<{ type: string; p50: number | null; p95: number | null }>;

    const byType = new Map<string, ReportTypeStats>();
    for (const row of counts) {
      const stats = byType.get(row.type) ?? { type: row.type, counts: {}, total: 0, p50DurationMs: null, p95DurationMs: null };
      stats.counts[row.status] = row.count;
      stats.total += row.count;
      byType.set(row.type, stats);
    }
    for (const row of durations) {
      const stats = byType.get(row.type);
      if (!stats) continue;
      stats.p50DurationMs = row.p50 === null ? null : Math.round(Number(row.p50));
      stats.p95DurationMs = row.p95 === null ? null : Math.round(Number(row.p95));
    }
    return [...byType.values()];
  }
}
