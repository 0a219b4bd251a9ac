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
exports.UpdateScheduleDto = exports.CreateScheduleDto = void 0;
exports.IsCronExpression = IsCronExpression;
exports.IsIanaTimeZone = IsIanaTimeZone;
const class_validator_1 = require("class-validator");
const schedule_rules_1 = require("../schedule-rules");
const submit_task_dto_1 = require("./submit-task.dto");
/** A cron expression BullMQ can run (see {@link cronExpressionProblem}). */
function IsCronExpression(options) {
    return (0, class_validator_1.ValidateBy)({
        name: 'isCronExpression',
        validator: {
            validate: (value) => (0, schedule_rules_1.cronExpressionProblem)(value) === null,
            defaultMessage: (args) => (0, schedule_rules_1.cronExpressionProblem)(args?.value) ?? 'cron must be a cron expression',
        },
    }, options);
}
/** An IANA time zone name (see {@link isIanaTimeZone}). */
function IsIanaTimeZone(options) {
    return (0, class_validator_1.ValidateBy)({
        name: 'isIanaTimeZone',
        validator: {
            validate: (value) => (0, schedule_rules_1.isIanaTimeZone)(value),
            defaultMessage: (args) => `${args?.property ?? 'tz'} must be an IANA time zone such as Europe/Paris or UTC`,
        },
    }, options);
}
const NAME_MESSAGE = 'name must be 1 to 100 characters: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit';
/** Set, but not to null: PATCH fields that cannot be cleared. */
const present = (_, value) => value !== undefined;
/**
 * Body of `POST /schedules`. `type` and `payload` are validated like a task submission:
 * the type must be registered and the payload must satisfy its DTO.
 */
class CreateScheduleDto {
}
exports.CreateScheduleDto = CreateScheduleDto;
__decorate([
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.Matches)(schedule_rules_1.SCHEDULE_NAME_PATTERN, { message: NAME_MESSAGE }),
    __metadata("design:type", String)
], CreateScheduleDto.prototype, "name", void 0);
__decorate([
    IsCronExpression(),
    __metadata("design:type", String)
], CreateScheduleDto.prototype, "cron", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    IsIanaTimeZone(),
    __metadata("design:type", Object)
], CreateScheduleDto.prototype, "tz", void 0);
__decorate([
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(100),
    __metadata("design:type", String)
], CreateScheduleDto.prototype, "type", void 0);
__decorate([
    (0, class_validator_1.IsDefined)(),
    (0, class_validator_1.IsObject)(),
    __metadata("design:type", Object)
], CreateScheduleDto.prototype, "payload", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsBoolean)(),
    __metadata("design:type", Boolean)
], CreateScheduleDto.prototype, "enabled", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(submit_task_dto_1.MAX_CALLBACK_URL_LENGTH),
    (0, class_validator_1.IsUrl)(submit_task_dto_1.CALLBACK_URL_OPTIONS, { message: 'callbackUrl must be an absolute http(s) URL' }),
    __metadata("design:type", String)
], CreateScheduleDto.prototype, "callbackUrl", void 0);
/**
 * Body of `PATCH /schedules/:name`: any of the fields, the rest stays. The result is
 * validated as a whole: changing `type` needs a payload valid for the new type. `tz: null`
 * goes back to UTC.
 */
class UpdateScheduleDto {
}
exports.UpdateScheduleDto = UpdateScheduleDto;
__decorate([
    (0, class_validator_1.ValidateIf)(present),
    IsCronExpression(),
    __metadata("design:type", String)
], UpdateScheduleDto.prototype, "cron", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    IsIanaTimeZone(),
    __metadata("design:type", Object)
], UpdateScheduleDto.prototype, "tz", void 0);
__decorate([
    (0, class_validator_1.ValidateIf)(present),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(100),
    __metadata("design:type", String)
], UpdateScheduleDto.prototype, "type", void 0);
__decorate([
    (0, class_validator_1.ValidateIf)(present),
    (0, class_validator_1.IsObject)(),
    __metadata("design:type", Object)
], UpdateScheduleDto.prototype, "payload", void 0);
__decorate([
    (0, class_validator_1.ValidateIf)(present),
    (0, class_validator_1.IsBoolean)(),
    __metadata("design:type", Boolean)
], UpdateScheduleDto.prototype, "enabled", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(submit_task_dto_1.MAX_CALLBACK_URL_LENGTH),
    (0, class_validator_1.IsUrl)(submit_task_dto_1.CALLBACK_URL_OPTIONS, { message: 'callbackUrl must be an absolute http(s) URL' }),
    __metadata("design:type", Object)
], UpdateScheduleDto.prototype, "callbackUrl", void 0);
//# sourceMappingURL=schedule.dto.js.map