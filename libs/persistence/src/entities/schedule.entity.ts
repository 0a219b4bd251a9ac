import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A recurring schedule: every time its cron expression fires, the monitor creates a task of
 * `type` with `payload`. The record; Redis holds only a BullMQ job scheduler per enabled one.
 */
@Entity({ name: 'schedules' })
export class ScheduleEntity {
  @PrimaryColumn('varchar', { length: 100 })
  name!: string;

  @Column('varchar', { length: 200 })
  cron!: string;

  /** IANA zone the cron expression is read in; null: UTC. */
  @Column('varchar', { length: 100, nullable: true })
  tz!: string | null;

  @Column('varchar', { length: 100 })
  type!: string;

  @Column('jsonb')
  payload!: unknown;

  @Column('boolean')
  enabled!: boolean;

  /** Owner of the tasks its runs create: the tenant of the API key that created it. */
  @Column('varchar', { length: 100, default: 'default' })
  tenant!: string;

  /** The callback URL of the tasks its runs create. */
  @Column('text', { name: 'callback_url', nullable: true })
  callbackUrl!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  /** When a run last created a task. */
  @Column('timestamptz', { name: 'last_run_at', nullable: true })
  lastRunAt!: Date | null;
}
