import type { ScheduleEntity } from '@taskq/persistence';
import { prepareTask, type Preparation } from './task-preparation';

/** What a run takes from its schedule. */
export type ScheduleRunSource = Pick<ScheduleEntity, 'name' | 'tenant' | 'type' | 'payload' | 'callbackUrl'>;

export interface ScheduleRun {
  /** Keeps a redelivered run from creating a second task; null: every call creates one. */
  idempotencyKey: string | null;
  now: Date;
}

/**
 * The task one run of a schedule creates: an ordinary task of its type and payload (validated,
 * with the type's defaults), owned by its tenant, carrying its name. The monitor's cron runs
 * and the API's "run now" both prepare it here, then admit it like any submission.
 */
export function prepareScheduleRun(schedule: ScheduleRunSource, run: ScheduleRun): Promise<Preparation> {
  return prepareTask(
    { type: schedule.type, payload: schedule.payload as Record<string, unknown>, ...(schedule.callbackUrl ? { callbackUrl: schedule.callbackUrl } : {}) },
    // The API checked the callback URL when the schedule was saved.
    { tenant: schedule.tenant, idempotencyKey: run.idempotencyKey, now: run.now, scheduleName: schedule.name, allowPrivateCallbacks: true },
  );
}
