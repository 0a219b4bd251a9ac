"use strict";
var __decorate = (this && this.__decorate) || function (decorators, target, key, desc) {
    var c = arguments.length, r = c < 3 ? target : desc === null ? desc = Object.getOwnPropertyDescriptor(target, key) : desc, d;
    if (typeof Reflect === "object" && typeof Reflect.decorate === "function") r = Reflect.decorate(decorators, target, key, desc);
    else for (var i = decorators.length - 1; i >= 0; i--) if (d = decorators[i]) r = (c < 3 ? d(r) : c > 3 ? d(target, key, r) : d(target, key)) || r;
    return c > 3 && r && Object.defineProperty(target, key, r), r;
};
var __metadata = (this && this.__metadata) || function (k, v) {
    if (typeof Reflect === "object" && typeof Reflect.metadata === "function") return Reflect.metadata(k, v);
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.TaskEventStreamQuery = exports.TaskEventsQuery = void 0;
const class_validator_1 = require("class-validator");
const task_status_1 = require("../task-status");
const STATUS_LIST = new RegExp(`^(${Object.values(task_status_1.TaskStatus).join('|')})(,(${Object.values(task_status_1.TaskStatus).join('|')}))*$`);
/** Query of `GET /events`: which task events to stream. */
class TaskEventsQuery {
}
exports.TaskEventsQuery = TaskEventsQuery;
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(1_000),
    (0, class_validator_1.Matches)(/^[a-z0-9_-]+(,[a-z0-9_-]+)*$/i, { message: 'must be task types separated by commas' }),
    __metadata("design:type", String)
], TaskEventsQuery.prototype, "type", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(200),
    (0, class_validator_1.Matches)(STATUS_LIST, { message: `must be statuses separated by commas (${Object.values(task_status_1.TaskStatus).join(', ')})` }),
    __metadata("design:type", String)
], TaskEventsQuery.prototype, "status", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(100),
    __metadata("design:type", String)
], TaskEventsQuery.prototype, "lastEventId", void 0);
/** Query of `GET /tasks/:id/events`. */
class TaskEventStreamQuery {
}
exports.TaskEventStreamQuery = TaskEventStreamQuery;
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(100),
    __metadata("design:type", String)
], TaskEventStreamQuery.prototype, "lastEventId", void 0);
//# sourceMappingURL=task-events.query.js.map