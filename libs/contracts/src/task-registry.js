"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.TASK_TYPE_NAMES = void 0;
exports.isTaskType = isTaskType;
exports.getTaskType = getTaskType;
const task_types_1 = require("./task-types");
const registry = new Map(Object.entries(task_types_1.TASK_TYPES).map(([name, { description, payload, defaults, payloadSchema }]) => [
    name,
    { description, payload, queue: name, ...defaults, ...(payloadSchema ? { payloadSchema } : {}) },
]));
exports.TASK_TYPE_NAMES = [...registry.keys()];
/** Safe lookup: `constructor` or `__proto__` are not task types. */
function isTaskType(name) {
    return typeof name === 'string' && registry.has(name);
}
function getTaskType(name) {
    const definition = registry.get(name);
    if (!definition)
        throw new Error(`Unknown task type "${name}"`);
    return definition;
}
//# sourceMappingURL=task-registry.js.map