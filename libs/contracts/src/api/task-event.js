"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.TaskEventSink = exports.MAX_PROGRESS_BYTES = void 0;
exports.progressValueProblem = progressValueProblem;
/** Largest progress object, serialized as JSON. */
exports.MAX_PROGRESS_BYTES = 4_096;
/**
 * Where the processes that commit a task's changes announce them, after the commit (the
 * queue lib's Redis publisher in the apps). Framework-free, so the persistence lib can
 * announce what its batched writers commit without depending on Redis.
 */
class TaskEventSink {
}
exports.TaskEventSink = TaskEventSink;
/** Why a progress value is refused, or null when it is acceptable. */
function progressValueProblem(value) {
    if (typeof value === 'number') {
        return Number.isFinite(value) && value >= 0 && value <= 100 ? null : `a progress percentage must be a number from 0 to 100 (got ${value})`;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
        return 'progress must be a number from 0 to 100 or a plain JSON object';
    let json;
    try {
        json = JSON.stringify(value);
    }
    catch (error) {
        return `progress must be serializable as JSON (${error.message})`;
    }
    const bytes = new TextEncoder().encode(json ?? '').length;
    return bytes <= exports.MAX_PROGRESS_BYTES ? null : `a progress object may hold at most ${exports.MAX_PROGRESS_BYTES} bytes of JSON (got ${bytes})`;
}
//# sourceMappingURL=task-event.js.map