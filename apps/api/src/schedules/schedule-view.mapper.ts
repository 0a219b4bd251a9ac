import type { ScheduleView } from '@taskq/contracts';
import type { ScheduleEntity } from '@taskq/persistence';

export function toScheduleView(schedule: ScheduleEntity, nextRunAt: Date | null): ScheduleView {
  return {
    name: schedule.name,
    tenant: schedule.tenant,
    cron: schedule.cron,
    tz: schedule.tz,
    type: schedule.type,
    payload: schedule.payload,
    enabled: schedule.enabled,
    callbackUrl: schedule.callbackUrl ?? null,
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
    lastRunAt: schedule.lastRunAt ? schedule.lastRunAt.toISOString() : null,
    nextRunAt: schedule.enabled && nextRunAt ? nextRunAt.toISOString() : null,
  };
}
