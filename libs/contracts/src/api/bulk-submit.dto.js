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
exports.BulkSubmitDto = exports.MAX_BULK_TASKS = void 0;
const class_validator_1 = require("class-validator");
exports.MAX_BULK_TASKS = 1_000;
/**
 * Body of `POST /tasks/bulk`: all tasks are accepted, or none. Each task is a
 * {@link SubmitTaskDto}; it is validated one by one so that one answer names every failing index.
 */
class BulkSubmitDto {
}
exports.BulkSubmitDto = BulkSubmitDto;
__decorate([
    (0, class_validator_1.IsArray)(),
    (0, class_validator_1.ArrayMinSize)(1),
    (0, class_validator_1.ArrayMaxSize)(exports.MAX_BULK_TASKS),
    (0, class_validator_1.IsObject)({ each: true }),
    __metadata("design:type", Array)
], BulkSubmitDto.prototype, "tasks", void 0);
//# sourceMappingURL=bulk-submit.dto.js.map