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
exports.webhookTaskType = exports.WebhookPayload = exports.WEBHOOK_METHODS = void 0;
const class_validator_1 = require("class-validator");
const backoff_policy_1 = require("../backoff-policy");
const task_type_definition_1 = require("../task-type-definition");
exports.WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
function IsStringRecord(options) {
    return (0, class_validator_1.ValidateBy)({
        name: 'isStringRecord',
        validator: {
            validate: (value) => typeof value === 'object' &&
                value !== null &&
                !Array.isArray(value) &&
                Object.values(value).every((v) => typeof v === 'string'),
            defaultMessage: (0, class_validator_1.buildMessage)((prefix) => `${prefix}$property must be an object of string values`, options),
        },
    }, options);
}
/** One HTTP request. 2xx completes, 5xx and time-outs retry, other 4xx fail permanently. */
class WebhookPayload {
}
exports.WebhookPayload = WebhookPayload;
__decorate([
    (0, class_validator_1.IsUrl)({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }),
    __metadata("design:type", String)
], WebhookPayload.prototype, "url", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsIn)(exports.WEBHOOK_METHODS),
    __metadata("design:type", String)
], WebhookPayload.prototype, "method", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsObject)(),
    IsStringRecord(),
    __metadata("design:type", Object)
], WebhookPayload.prototype, "headers", void 0);
__decorate([
    (0, class_validator_1.Allow)(),
    __metadata("design:type", Object)
], WebhookPayload.prototype, "body", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(100),
    (0, class_validator_1.Max)(120_000),
    __metadata("design:type", Number)
], WebhookPayload.prototype, "timeoutMs", void 0);
exports.webhookTaskType = (0, task_type_definition_1.defineTaskType)({
    description: 'Make an HTTP request; 2xx completes, 5xx and time-outs retry, 4xx fails permanently.',
    payload: WebhookPayload,
    result: (0, task_type_definition_1.resultShape)(),
    defaults: { attempts: 8, backoff: (0, backoff_policy_1.exponentialBackoff)(2_000, 15 * 60_000), timeoutMs: 130_000, concurrency: 20 },
});
//# sourceMappingURL=webhook.task-type.js.map