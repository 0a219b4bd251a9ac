import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { AttemptOutcome } from '@taskq/contracts';
import { TaskEntity } from './task.entity';

/** One run of a task's handler on one worker. */
@Entity({ name: 'task_attempts' })
export class TaskAttemptEntity {
  @PrimaryColumn('uuid', { name: 'task_id' })
  taskId!: string;

  @PrimaryColumn('int')
  number!: number;

  @Column('varchar', { name: 'worker_id', length: 200 })
  workerId!: string;

  @Column('timestamptz', { name: 'started_at' })
  startedAt!: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('int', { name: 'duration_ms', nullable: true })
  durationMs!: number | null;

  @Column('varchar', { length: 20 })
  outcome!: AttemptOutcome;

  @Column('text', { nullable: true })
  error!: string | null;

  /** The task's type and tenant, copied when the attempt starts, so that attempts are counted without reading their tasks (GET /stats). */
  @Column('varchar', { length: 100, nullable: true })
  type!: string | null;

  @Column('varchar', { length: 100, nullable: true })
  tenant!: string | null;

  @ManyToOne(() => TaskEntity, (task) => task.attempts, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id' })
  task?: TaskEntity;
}
