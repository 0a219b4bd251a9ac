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
exports.ListDeadLettersQuery = exports.DeadLetterFilter = void 0;
const class_transformer_1 = require("class-transformer");
const class_validator_1 = require("class-validator");
const list_tasks_query_1 = require("./list-tasks.query");
/** Which dead tasks a DLQ request is about: by type and by the time they died. */
class DeadLetterFilter {
}
exports.DeadLetterFilter = DeadLetterFilter;
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(100),
    __metadata("design:type", String)
], DeadLetterFilter.prototype, "type", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsISO8601)({ strict: true }),
    __metadata("design:type", String)
], DeadLetterFilter.prototype, "from", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsISO8601)({ strict: true }),
    __metadata("design:type", String)
], DeadLetterFilter.prototype, "to", void 0);
/** Query of `GET /dlq`: newest deaths first, cursor pages. */
class ListDeadLettersQuery extends DeadLetterFilter {
}
exports.ListDeadLettersQuery = ListDeadLettersQuery;
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_transformer_1.Type)(() => Number),
    (0, class_validator_1.IsInt)(),
    (0, class_validator_1.Min)(1),
    (0, class_validator_1.Max)(list_tasks_query_1.MAX_PAGE_SIZE),
    __metadata("design:type", Number)
], ListDeadLettersQuery.prototype, "limit", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.MaxLength)(200),
    __metadata("design:type", String)
], ListDeadLettersQuery.prototype, "cursor", void 0);
//# sourceMappingURL=dead-letter.query.js.map