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
exports.SubmitTaskDto = exports.BackoffOverrideDto = exports.CALLBACK_URL_OPTIONS = exports.MAX_CALLBACK_URL_LENGTH = exports.MAX_BACKOFF_DELAY_MS = exports.MAX_TIMEOUT_MS = exports.MAX_SCHEDULE_AHEAD_MS = exports.MAX_ATTEMPTS_LIMIT = exports.MAX_PRIORITY = exports.MIN_PRIORITY = void 0;
const class_transformer_1 = require("class-transformer");
const class_validator_1 = require("class-validator");
exports.MIN_PRIORITY = 1;
exports.MAX_PRIORITY = 1_000;
exports.MAX_ATTEMPTS_LIMIT = 50;
/** Tasks cannot be scheduled further ahead than this. */
exports.MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3_600_000;
exports.MAX_TIMEOUT_MS = 3_600_000;
exports.MAX_BACKOFF_DELAY_MS = 24 * 3_600_000;
exports.MAX_CALLBACK_URL_LENGTH = 2_048;
/** A completion callback's target: http(s), absolute. Private and loopback hosts are refused separately (they need the network's context). */
exports.CALLBACK_URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };
/** A per-task retry policy; omitted fields come from the task type's default. */
class BackoffOverrideDto {
}
exports.BackoffOverrideDto = BackoffOverrideDto;
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsIn)(['exponential', 'fixed']),
    __metadata("design:type", String)
], BackoffOverrideDto.prototype, "type", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(0),
    (0, class_validator_1.Max)(exports.MAX_BACKOFF_DELAY_MS),
    __metadata("design:type", Number)
], BackoffOverrideDto.prototype, "delayMs", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(0),
    (0, class_validator_1.Max)(exports.MAX_BACKOFF_DELAY_MS),
    __metadata("design:type", Number)
], BackoffOverrideDto.prototype, "maxDelayMs", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsIn)(['full', 'none']),
    __metadata("design:type", String)
], BackoffOverrideDto.prototype, "jitter", void 0);
/** Body of `POST /submit-task` and `POST /tasks`. The payload is validated against its type's DTO. */
class SubmitTaskDto {
}
exports.SubmitTaskDto = SubmitTaskDto;
__decorate([
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(100),
    __metadata("design:type", String)
], SubmitTaskDto.prototype, "type", void 0);
__decorate([
    (0, class_validator_1.IsDefined)(),
    (0, class_validator_1.IsObject)(),
    __metadata("design:type", Object)
], SubmitTaskDto.prototype, "payload", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(exports.MIN_PRIORITY),
    (0, class_validator_1.Max)(exports.MAX_PRIORITY),
    __metadata("design:type", Number)
], SubmitTaskDto.prototype, "priority", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsISO8601)({ strict: true }),
    __metadata("design:type", String)
], SubmitTaskDto.prototype, "runAt", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsISO8601)({ strict: true }),
    __metadata("design:type", String)
], SubmitTaskDto.prototype, "visibility_time", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(0),
    (0, class_validator_1.Max)(exports.MAX_SCHEDULE_AHEAD_MS),
    __metadata("design:type", Number)
], SubmitTaskDto.prototype, "delayMs", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(1),
    (0, class_validator_1.Max)(exports.MAX_ATTEMPTS_LIMIT),
    __metadata("design:type", Number)
], SubmitTaskDto.prototype, "maxAttempts", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.ValidateNested)(),
    (0, class_transformer_1.Type)(() => BackoffOverrideDto),
    __metadata("design:type", BackoffOverrideDto)
], SubmitTaskDto.prototype, "backoff", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(100),
    (0, class_validator_1.Max)(exports.MAX_TIMEOUT_MS),
    __metadata("design:type", Number)
], SubmitTaskDto.prototype, "timeoutMs", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.Matches)(/^[\x21-\x7e]{1,200}$/, { message: 'idempotencyKey must be 1 to 200 printable ASCII characters' }),
    __metadata("design:type", String)
], SubmitTaskDto.prototype, "idempotencyKey", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(exports.MAX_CALLBACK_URL_LENGTH),
    (0, class_validator_1.IsUrl)(exports.CALLBACK_URL_OPTIONS, { message: 'callbackUrl must be an absolute http(s) URL' }),
    __metadata("design:type", String)
], SubmitTaskDto.prototype, "callbackUrl", void 0);
//# sourceMappingURL=submit-task.dto.js.map