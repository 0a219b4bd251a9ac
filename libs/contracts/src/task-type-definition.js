"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.resultShape = resultShape;
exports.defineTaskType = defineTaskType;
/** Names the result type of a task type: `result: resultShape<SleepResult>()`. It holds nothing at run time. */
function resultShape() {
    return {};
}
/**
 * Declares a task type, in its own file beside its payload DTO and result shape. Its name (and
 * so its queue) is the key it is registered under in `TASK_TYPES`.
 */
function defineTaskType(declaration) {
    return declaration;
}
//# sourceMappingURL=task-type-definition.js.map