"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=dead-task-alert.js.map