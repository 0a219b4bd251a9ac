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
exports.reportTaskType = exports.ReportPayload = void 0;
const class_validator_1 = require("class-validator");
const backoff_policy_1 = require("../backoff-policy");
const task_type_definition_1 = require("../task-type-definition");
/** Aggregates task history over the last `windowMinutes` (default one day). */
class ReportPayload {
}
exports.ReportPayload = ReportPayload;
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(1),
    (0, class_validator_1.Max)(366 * 24 * 60),
    __metadata("design:type", Number)
], ReportPayload.prototype, "windowMinutes", void 0);
exports.reportTaskType = (0, task_type_definition_1.defineTaskType)({
    description: 'Aggregate task history from PostgreSQL: counts per type and status, duration percentiles.',
    payload: ReportPayload,
    result: (0, task_type_definition_1.resultShape)(),
    defaults: { attempts: 3, backoff: (0, backoff_policy_1.exponentialBackoff)(10_000, 5 * 60_000), timeoutMs: 120_000, concurrency: 2 },
});
//# sourceMappingURL=report.task-type.js.map