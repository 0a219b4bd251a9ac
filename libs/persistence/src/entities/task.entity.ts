import { Column, Entity, OneToMany, PrimaryColumn } from 'typeorm';
import type { BackoffPolicy, TaskProgress, TaskStatus } from '@taskq/contracts';
import { TaskAttemptEntity } from './task-attempt.entity';

/** One submitted task. The system of record: Redis only dispatches it. Indexes live in the migrations. */
@Entity({ name: 'tasks' })
export class TaskEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 100 })
  type!: string;

  @Column('varchar', { length: 20 })
  status!: TaskStatus;

  /** Owner: the tenant of the API key that submitted it. Other tenants never see it. */
  @Column('varchar', { length: 100, default: 'default' })
  tenant!: string;

  @Column('jsonb')
  payload!: unknown;

  @Column('jsonb', { nullable: true })
  result!: unknown;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('int', { nullable: true })
  priority!: number | null;

  @Column('timestamptz', { name: 'run_at', nullable: true })
  runAt!: Date | null;

  @Column('int', { name: 'max_attempts' })
  maxAttempts!: number;

  @Column('int', { name: 'attempts_made', default: 0 })
  attemptsMade!: number;

  /** Attempts made before the current budget began (manual retry, DLQ requeue). */
  @Column('int', { name: 'attempt_base', default: 0 })
  attemptBase!: number;

  @Column('jsonb')
  backoff!: BackoffPolicy;

  @Column('int', { name: 'timeout_ms' })
  timeoutMs!: number;

  @Column('varchar', { name: 'idempotency_key', length: 200, nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the canonical request body, to tell a replay from a conflicting reuse of a key. */
  @Column('char', { name: 'request_hash', length: 64, nullable: true })
  requestHash!: string | null;

  /** The recurring schedule that created the task; null when a client submitted it. */
  @Column('varchar', { name: 'schedule_name', length: 100, nullable: true })
  scheduleName!: string | null;

  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  /** Where taskq POSTs the task once it is completed, dead or cancelled. */
  @Column('text', { name: 'callback_url', nullable: true })
  callbackUrl!: string | null;

  /** The latest progress its handler reported. */
  @Column('jsonb', { nullable: true })
  progress!: TaskProgress | null;

  @Column('timestamptz', { name: 'progress_at', nullable: true })
  progressAt!: Date | null;

  /** Run time of its latest finished attempt (of a completed task: the one that completed it), in ms. */
  @Column('int', { name: 'last_attempt_ms', nullable: true })
  lastAttemptMs!: number | null;

  @OneToMany(() => TaskAttemptEntity, (attempt) => attempt.task)
  attempts?: TaskAttemptEntity[];
}
