"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=task-view.js.map