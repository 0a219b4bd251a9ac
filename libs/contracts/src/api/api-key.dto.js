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
exports.CreateApiKeyDto = void 0;
const class_validator_1 = require("class-validator");
const api_key_scope_1 = require("../api-key-scope");
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** Body of `POST /keys` (and of `npm run keys -- create`). */
class CreateApiKeyDto {
}
exports.CreateApiKeyDto = CreateApiKeyDto;
__decorate([
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.Matches)(NAME, { message: 'name must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit' }),
    __metadata("design:type", String)
], CreateApiKeyDto.prototype, "name", void 0);
__decorate([
    (0, class_validator_1.IsArray)(),
    (0, class_validator_1.ArrayMinSize)(1),
    (0, class_validator_1.ArrayMaxSize)(3),
    (0, class_validator_1.ArrayUnique)(),
    (0, class_validator_1.IsEnum)(api_key_scope_1.ApiKeyScope, { each: true, message: 'each scope must be one of: tasks:write, tasks:read, admin' }),
    __metadata("design:type", Array)
], CreateApiKeyDto.prototype, "scopes", void 0);
__decorate([
    (0, class_validator_1.IsOptional)(),
    (0, class_validator_1.IsString)(),
    (0, class_validator_1.Matches)(NAME, { message: 'tenant must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit' }),
    __metadata("design:type", String)
], CreateApiKeyDto.prototype, "tenant", void 0);
//# sourceMappingURL=api-key.dto.js.map