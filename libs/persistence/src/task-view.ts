import type { AttemptView, CallbackView, TaskSummaryView, TaskView } from '@taskq/contracts';
import type { TaskAttemptEntity, TaskEntity } from './entities';

import { isoOrNull as iso } from './iso-time';

export function toTaskSummary(task: TaskEntity): TaskSummaryView {
  return {
    id: task.id,
    type: task.type,
    status: task.status,
    tenant: task.tenant,
    lastError: task.lastError,
    priority: task.priority,
    runAt: iso(task.runAt),
    maxAttempts: task.maxAttempts,
    attemptsMade: task.attemptsMade,
    backoff: task.backoff,
    timeoutMs: task.timeoutMs,
    idempotencyKey: task.idempotencyKey,
    scheduleName: task.scheduleName,
    nextAttemptAt: iso(task.nextAttemptAt),
    createdAt: task.createdAt.toISOString(),
    startedAt: iso(task.startedAt),
    finishedAt: iso(task.finishedAt),
    callbackUrl: task.callbackUrl ?? null,
    progress: task.progress ?? null,
    progressUpdatedAt: iso(task.progressAt ?? null),
  };
}

export function toAttemptView(attempt: TaskAttemptEntity): AttemptView {
  return {
    number: attempt.number,
    workerId: attempt.workerId,
    startedAt: attempt.startedAt.toISOString(),
    finishedAt: iso(attempt.finishedAt),
    durationMs: attempt.durationMs,
    outcome: attempt.outcome,
    error: attempt.error,
  };
}

/** `GET /tasks/:id`, and the body of its completion callbacks (without `callback`). */
export function toTaskView(task: TaskEntity, callback: CallbackView | null = null): TaskView {
  return {
    ...toTaskSummary(task),
    payload: task.payload,
    result: task.result ?? null,
    attempts: (task.attempts ?? []).map(toAttemptView),
    callback,
  };
}
