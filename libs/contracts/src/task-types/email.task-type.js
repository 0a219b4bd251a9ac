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
exports.emailTaskType = exports.EmailPayload = void 0;
const class_transformer_1 = require("class-transformer");
const class_validator_1 = require("class-validator");
const backoff_policy_1 = require("../backoff-policy");
const task_type_definition_1 = require("../task-type-definition");
/** Sends one message over SMTP. `to` accepts one address or a list. */
class EmailPayload {
}
exports.EmailPayload = EmailPayload;
__decorate([
    (0, class_transformer_1.Transform)(({ value }) => (typeof value === 'string' ? [value] : value)),
    (0, class_validator_1.IsArray)(),
    (0, class_validator_1.ArrayMinSize)(1),
    (0, class_validator_1.ArrayMaxSize)(50),
    (0, class_validator_1.IsEmail)({}, { each: true }),
    __metadata("design:type", Array)
], EmailPayload.prototype, "to", void 0);
__decorate([
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(998),
    __metadata("design:type", String)
], EmailPayload.prototype, "subject", void 0);
__decorate([
    (0, class_validator_1.ValidateIf)((payload) => payload.html === undefined),
    (0, class_validator_1.IsString)({ message: 'text must be a string (text or html is required)' }),
    (0, class_validator_1.MaxLength)(1_000_000),
    __metadata("design:type", String)
], EmailPayload.prototype, "text", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(1_000_000),
    __metadata("design:type", String)
], EmailPayload.prototype, "html", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsEmail)(),
    __metadata("design:type", String)
], EmailPayload.prototype, "from", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsEmail)(),
    __metadata("design:type", String)
], EmailPayload.prototype, "replyTo", void 0);
exports.emailTaskType = (0, task_type_definition_1.defineTaskType)({
    description: 'Send an email over SMTP.',
    payload: EmailPayload,
    result: (0, task_type_definition_1.resultShape)(),
    defaults: { attempts: 5, backoff: (0, backoff_policy_1.exponentialBackoff)(5_000, 10 * 60_000), timeoutMs: 30_000, concurrency: 10 },
    payloadSchema: {
        properties: {
            to: {
                description: 'One address, or a list of 1 to 50.',
                anyOf: [
                    { type: 'string', format: 'email' },
                    { type: 'array', items: { type: 'string', format: 'email' }, minItems: 1, maxItems: 50 },
                ],
            },
        },
        schema: { anyOf: [{ required: ['text'] }, { required: ['html'] }], description: 'One message; `text` or `html` (or both) is required.' },
    },
});
//# sourceMappingURL=email.task-type.js.map