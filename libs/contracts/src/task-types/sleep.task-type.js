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
exports.sleepTaskType = exports.SleepPayload = void 0;
const class_validator_1 = require("class-validator");
const backoff_policy_1 = require("../backoff-policy");
const task_type_definition_1 = require("../task-type-definition");
/** Waits `ms` milliseconds (stops early when the task is aborted). */
class SleepPayload {
}
exports.SleepPayload = SleepPayload;
__decorate([
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(0),
    (0, class_validator_1.Max)(300_000),
    __metadata("design:type", Number)
], SleepPayload.prototype, "ms", void 0);
exports.sleepTaskType = (0, task_type_definition_1.defineTaskType)({
    description: 'Wait for `ms` milliseconds (demos, tests, shutdown drills).',
    payload: SleepPayload,
    result: (0, task_type_definition_1.resultShape)(),
    defaults: { attempts: 3, backoff: (0, backoff_policy_1.exponentialBackoff)(1_000, 60_000), timeoutMs: 310_000, concurrency: 20 },
});
//# sourceMappingURL=sleep.task-type.js.map