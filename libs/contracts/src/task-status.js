"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.AttemptOutcome = exports.TERMINAL_STATUSES = exports.TaskStatus = void 0;
exports.isTerminalStatus = isTerminalStatus;
/**
 * WARNING: these values are stored in PostgreSQL (tasks.status, task_attempts.outcome)
 * and returned by the HTTP API. Renaming one needs a migration and an API version bump.
 */
var TaskStatus;
(function (TaskStatus) {
    TaskStatus["Queued"] = "queued";
    TaskStatus["Delayed"] = "delayed";
    TaskStatus["Active"] = "active";
    TaskStatus["Retrying"] = "retrying";
    TaskStatus["Completed"] = "completed";
    TaskStatus["Dead"] = "dead";
    TaskStatus["Cancelled"] = "cancelled";
})(TaskStatus || (exports.TaskStatus = TaskStatus = {}));
exports.TERMINAL_STATUSES = [TaskStatus.Completed, TaskStatus.Dead, TaskStatus.Cancelled];
function isTerminalStatus(status) {
    return exports.TERMINAL_STATUSES.includes(status);
}
/** WARNING: stored in task_attempts.outcome. */
var AttemptOutcome;
(function (AttemptOutcome) {
    AttemptOutcome["Running"] = "running";
    AttemptOutcome["Completed"] = "completed";
    AttemptOutcome["Failed"] = "failed";
    AttemptOutcome["TimedOut"] = "timed_out";
    /** Stopped by `POST /tasks/:id/cancel` while running. */
    AttemptOutcome["Cancelled"] = "cancelled";
    /**
     * Stopped by its worker's shutdown deadline, or cut short when Redis lost its job, and
     * handed back to the queue: costs no attempt.
     */
    AttemptOutcome["Interrupted"] = "interrupted";
    /**
     * Its worker stopped without recording an outcome (killed, crashed, or lost its lock), found
     * when the task next starts or by the reconciler. Counts against the attempt budget, so a
     * task that kills its worker every time ends dead instead of looping.
     */
    AttemptOutcome["Lost"] = "lost";
})(AttemptOutcome || (exports.AttemptOutcome = AttemptOutcome = {}));
//# sourceMappingURL=task-status.js.map