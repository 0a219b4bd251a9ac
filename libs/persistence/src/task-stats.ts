import type { DataSource, EntityManager } from 'typeorm';
import { errorChain } from './postgres-outage';

/** The stretch of history the figures cover: [from, to). */
export interface StatsWindow {
  from: Date;
  to: Date;
  /** Only this tenant's tasks; undefined: every tenant's. */
  tenant?: string;
}

/** What the figures count per minute. */
export type StatsEvent = 'completed' | 'dead' | 'failedAttempt';

/** How many events of one kind one task type had in one minute of the window. */
export interface MinuteCount {
  type: string;
  event: StatsEvent;
  /** Whole minutes since the window's start. */
  minute: number;
  count: number;
}

/** Percentiles of the run time of the attempts that completed a type's tasks in the window, in ms. */
export interface DurationPercentiles {
  type: string;
  p50: number;
  p95: number;
}

export interface TaskStatsReading {
  counts: MinuteCount[];
  durations: DurationPercentiles[];
}

/** The statistics took longer than the store allows them (see {@link TaskStatsStore}). */
export class StatsTimeoutError extends Error {
  override readonly name = 'StatsTimeoutError';
}

/** The outcomes of attempts that failed: each spends an attempt of the task's budget. */
const FAILED_OUTCOMES_SQL = `('failed','timed_out','lost')`;

const minuteOf = (column: string): string => `floor(extract(epoch FROM ${column} - $1::timestamptz) / 60)::int`;

/**
 * Tasks that completed or died in the window, per type and minute: one range of
 * tasks_finished_idx (status, finished_at) per status, which carries type and tenant.
 */
const finishedPerMinute = (tenantClause: string): string => `
  SELECT type, status AS event, ${minuteOf('finished_at')} AS minute, count(*)::int AS count
    FROM tasks
   WHERE status IN ('completed', 'dead') AND finished_at >= $1 AND finished_at < $2${tenantClause}
   GROUP BY type, status, minute`;

/** Failed attempts in the window, per type and minute: a range of task_attempts_failed_idx, which carries type and tenant. */
const failedAttemptsPerMinute = (tenantClause: string): string => `
  SELECT type, 'failedAttempt' AS event, ${minuteOf('finished_at')} AS minute, count(*)::int AS count
    FROM task_attempts
   WHERE outcome IN ${FAILED_OUTCOMES_SQL} AND finished_at >= $1 AND finished_at < $2${tenantClause}
   GROUP BY type, minute`;

/**
 * Run times of the attempts that completed tasks in the window (the task keeps its latest
 * attempt's in last_attempt_ms): the completed range of tasks_finished_idx, which carries it.
 */
const completedDurations = (tenantClause: string): string => `
  SELECT type,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY last_attempt_ms) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY last_attempt_ms) AS p95
    FROM tasks
   WHERE status = 'completed' AND finished_at >= $1 AND finished_at < $2${tenantClause} AND last_attempt_ms IS NOT NULL
   GROUP BY type`;

/** The statements, for a window with or without a tenant (the EXPLAIN script runs exactly these). */
export function taskStatsStatements(withTenant: boolean): { finished: string; failedAttempts: string; durations: string } {
  const tenantClause = withTenant ? ' AND tenant = $3' : '';
  return { finished: finishedPerMinute(tenantClause), failedAttempts: failedAttemptsPerMinute(tenantClause), durations: completedDurations(tenantClause) };
}

/** query_canceled: here, only statement_timeout cancels. */
const QUERY_CANCELED = '57014';

/**
 * The history behind `GET /stats`: per-minute counts of completed tasks, dead tasks and
 * failed attempts, and attempt duration percentiles, per task type. Every statement reads an
 * index range of the window only, so its cost follows the window's traffic, never the size
 * of the tables (docs/stats-queries.md has the plans on 10 million tasks). They run in one
 * REPEATABLE READ transaction, so the figures agree with each other, under a statement
 * timeout, so that a window of extreme traffic fails fast instead of holding a connection.
 */
export class TaskStatsStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly statementTimeoutMs = 5_000,
  ) {}

  async read(window: StatsWindow): Promise<TaskStatsReading> {
    const statements = taskStatsStatements(window.tenant !== undefined);
    const params = window.tenant === undefined ? [window.from, window.to] : [window.from, window.to, window.tenant];
    try {
      return await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
        // For this transaction only; and JIT-compiling these range reads would cost more than it saves.
        await manager.query(`SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true)`, [String(this.statementTimeoutMs)]);
        const counts = [...(await rowsOf<MinuteCount>(manager, statements.finished, params)), ...(await rowsOf<MinuteCount>(manager, statements.failedAttempts, params))];
        const durations = (await rowsOf<{ type: string; p50: number; p95: number }>(manager, statements.durations, params)).map((row) => ({
          type: row.type,
          p50: Math.round(Number(row.p50)),
          p95: Math.round(Number(row.p95)),
        }));
        return { counts, durations };
      });
    } catch (error) {
      if ([...errorChain(error)].some((cause) => (cause as { code?: unknown }).code === QUERY_CANCELED)) {
        throw new StatsTimeoutError(`the statistics took longer than ${this.statementTimeoutMs} ms`, { cause: error });
      }
      throw error;
    }
  }
}

async function rowsOf<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return (await manager.query(sql, params)) as T[];
}
