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
__exportStar(require("./task-status"), exports);
__exportStar(require("./api-key-scope"), exports);
__exportStar(require("./backoff-policy"), exports);
__exportStar(require("./permanent-task-error"), exports);
__exportStar(require("./field-error"), exports);
__exportStar(require("./task-registry"), exports);
__exportStar(require("./payload-validation"), exports);
__exportStar(require("./fast-validation"), exports);
__exportStar(require("./schedule-rules"), exports);
__exportStar(require("./dead-task-alert"), exports);
__exportStar(require("./task-type-definition"), exports);
__exportStar(require("./task-types"), exports);
__exportStar(require("./api/submit-task.dto"), exports);
__exportStar(require("./api/task-view"), exports);
__exportStar(require("./api/task-event"), exports);
__exportStar(require("./api/task-events.query"), exports);
__exportStar(require("./api/list-tasks.query"), exports);
__exportStar(require("./api/task-type-view"), exports);
__exportStar(require("./api/bulk-submit.dto"), exports);
__exportStar(require("./api/dead-letter.query"), exports);
__exportStar(require("./api/api-key.dto"), exports);
__exportStar(require("./api/schedule.dto"), exports);
//# sourceMappingURL=index.js.map