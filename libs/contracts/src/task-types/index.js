"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.TASK_TYPES = void 0;
const email_task_type_1 = require("./email.task-type");
const noop_task_type_1 = require("./noop.task-type");
const report_task_type_1 = require("./report.task-type");
const sleep_task_type_1 = require("./sleep.task-type");
const webhook_task_type_1 = require("./webhook.task-type");
__exportStar(require("./email.task-type"), exports);
__exportStar(require("./webhook.task-type"), exports);
__exportStar(require("./report.task-type"), exports);
__exportStar(require("./noop.task-type"), exports);
__exportStar(require("./sleep.task-type"), exports);
/**
 * The task-type registry: every type taskq runs, each declared in its own file. Keys are the
 * public type names clients submit; each type's queue is named after its key.
 * Adding a type: `<type>.task-type.ts` here (payload DTO, result shape, `defineTaskType`), its
 * export and entry below, and its handler in `apps/worker/src/handlers/<type>.handler.ts`.
 * WARNING: type names are stored in PostgreSQL (tasks.type) and in Redis (queue names).
 * Renaming one needs a migration and strands the jobs already queued.
 */
exports.TASK_TYPES = {
    email: email_task_type_1.emailTaskType,
    webhook: webhook_task_type_1.webhookTaskType,
    report: report_task_type_1.reportTaskType,
    noop: noop_task_type_1.noopTaskType,
    sleep: sleep_task_type_1.sleepTaskType,
};
//# sourceMappingURL=index.js.map