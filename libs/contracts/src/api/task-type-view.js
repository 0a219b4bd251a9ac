"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=task-type-view.js.map