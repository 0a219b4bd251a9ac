"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.PermanentTaskError = void 0;
/**
 * Thrown by a handler when retrying cannot help (bad address, 4xx answer, invalid payload):
 * the task goes straight to `dead` without spending its remaining attempts.
 */
class PermanentTaskError extends Error {
    constructor() {
        super(...arguments);
        this.name = 'PermanentTaskError';
    }
}
exports.PermanentTaskError = PermanentTaskError;
//# sourceMappingURL=permanent-task-error.js.map