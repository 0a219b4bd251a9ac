import type { DataSource, EntityManager, Repository } from 'typeorm';
import { ScheduleEntity } from './entities';

/** What a schedule is made of, apart from its name and timestamps. */
export interface ScheduleFields {
  cron: string;
  tz: string | null;
  type: string;
  payload: unknown;
  enabled: boolean;
  /** The completion callback of the tasks it creates. */
  callbackUrl: string | null;
}

export interface NewSchedule extends ScheduleFields {
  name: string;
  tenant: string;
}

/** The schedule rows, inside a transaction that holds the schedules lock. */
export interface ScheduleChanges {
  /** The stored schedule, or null when the name is taken (nothing written). */
  insert(schedule: NewSchedule, now: Date): Promise<ScheduleEntity | null>;
  /** The row, locked until the transaction ends; null when unknown. */
  findForUpdate(name: string): Promise<ScheduleEntity | null>;
  update(name: string, fields: ScheduleFields, now: Date): Promise<ScheduleEntity | null>;
  /** The deleted row, or null when unknown. */
  delete(name: string): Promise<ScheduleEntity | null>;
  /** Every schedule, sorted by name. */
  list(): Promise<ScheduleEntity[]>;
}

// Arbitrary constant (next to the migration lock's): serialises schedule changes and the
// Redis re-syncs of every process, so a re-sync never sees a change half-made.
const SCHEDULES_LOCK_KEY = 7_286_150_002;

/** Every schedule, sorted by name: with or without the schedules lock. */
function listSchedules(rows: Repository<ScheduleEntity>): Promise<ScheduleEntity[]> {
  return rows.find({ order: { name: 'ASC' } });
}

class LockedScheduleChanges implements ScheduleChanges {
  private readonly rows: Repository<ScheduleEntity>;

  constructor(manager: EntityManager) {
    this.rows = manager.getRepository(ScheduleEntity);
  }

  async insert(schedule: NewSchedule, now: Date): Promise<ScheduleEntity | null> {
    // The lock makes check-then-insert safe: every writer of this table holds it.
    if (await this.rows.existsBy({ name: schedule.name })) return null;
    const row = this.rows.create({ ...schedule, createdAt: now, updatedAt: now, lastRunAt: null });
    await this.rows.insert({ ...row, payload: row.payload as object });
    return row;
  }

  findForUpdate(name: string): Promise<ScheduleEntity | null> {
    return this.rows.findOne({ where: { name }, lock: { mode: 'pessimistic_write' } });
  }

  async update(name: string, fields: ScheduleFields, now: Date): Promise<ScheduleEntity | null> {
    const { cron, tz, type, payload, enabled, callbackUrl } = fields;
    await this.rows.update({ name }, { cron, tz, type, payload: payload as object, enabled, callbackUrl, updatedAt: now });
    return this.rows.findOneBy({ name });
  }

  async delete(name: string): Promise<ScheduleEntity | null> {
    const row = await this.findForUpdate(name);
    if (row) await this.rows.delete({ name });
    return row;
  }

  list(): Promise<ScheduleEntity[]> {
    return listSchedules(this.rows);
  }
}

/**
 * The schedules table. Changes run through {@link change}, in one transaction: the caller
 * mirrors the change in Redis inside it, and a failure there rolls the row back.
 */
export class ScheduleStore {
  private readonly rows: Repository<ScheduleEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.rows = dataSource.getRepository(ScheduleEntity);
  }

  /** Every schedule, sorted by name. */
  list(): Promise<ScheduleEntity[]> {
    return listSchedules(this.rows);
  }

  find(name: string): Promise<ScheduleEntity | null> {
    return this.rows.findOneBy({ name });
  }

  /**
   * Runs `work` in a transaction that holds the schedules lock. Everything it writes commits
   * when it resolves and rolls back when it throws.
   */
  change<T>(work: (changes: ScheduleChanges) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULES_LOCK_KEY]);
      return work(new LockedScheduleChanges(manager));
    });
  }

  /** Notes that a run created a task at `at` (runs finishing out of order never move it back). */
  async recordRun(name: string, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE schedules SET last_run_at = GREATEST(last_run_at, $2) WHERE name = $1`, [name, at]);
  }
}
