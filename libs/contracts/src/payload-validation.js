"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.VALIDATOR_OPTIONS = void 0;
exports.validateInstance = validateInstance;
exports.validatePayload = validatePayload;
exports.validPayloadNow = validPayloadNow;
exports.validDtoNow = validDtoNow;
exports.validateDto = validateDto;
const class_transformer_1 = require("class-transformer");
const class_validator_1 = require("class-validator");
const fast_validation_1 = require("./fast-validation");
const field_error_1 = require("./field-error");
const task_registry_1 = require("./task-registry");
/** How taskq validates every DTO: unknown fields are errors. */
exports.VALIDATOR_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true };
/**
 * Validates what class-transformer made of a body: the fast validator says yes for most, and
 * only what it does not accept goes through class-validator, which names the failing fields
 * (see fastValidatorOf). Resolves with those errors: none for a valid instance.
 */
async function validateInstance(instance) {
    if ((0, fast_validation_1.fastValidatorOf)(instance.constructor)?.(instance))
        return [];
    return (0, class_validator_1.validate)(instance, exports.VALIDATOR_OPTIONS);
}
/**
 * Validates a raw payload against its type's DTO: unknown fields are errors.
 * Field paths are prefixed with `payload.` so they read the same as the request body.
 */
async function validatePayload(type, raw) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        return { valid: false, errors: [{ field: 'payload', messages: ['payload must be an object'] }] };
    }
    const definition = (0, task_registry_1.getTaskType)(type);
    const instance = (0, class_transformer_1.plainToInstance)(definition.payload, raw);
    const errors = await validateInstance(instance);
    if (errors.length > 0)
        return { valid: false, errors: (0, field_error_1.flattenValidationErrors)(errors, 'payload') };
    return { valid: true, payload: instance };
}
/**
 * The valid payload at once when the fast validator accepts it (see validateInstance), else
 * undefined: then validatePayload decides, naming the failing fields.
 */
function validPayloadNow(type, raw) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        return undefined;
    const definition = (0, task_registry_1.getTaskType)(type);
    const instance = (0, class_transformer_1.plainToInstance)(definition.payload, raw);
    return (0, fast_validation_1.fastValidatorOf)(definition.payload)?.(instance) ? { valid: true, payload: instance } : undefined;
}
/**
 * The DTO instance at once when the fast validator accepts `raw`, else undefined: then
 * validateDto decides, naming the failing fields.
 */
function validDtoNow(dtoClass, raw) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        return undefined;
    const value = (0, class_transformer_1.plainToInstance)(dtoClass, raw);
    return (0, fast_validation_1.fastValidatorOf)(dtoClass)?.(value) ? value : undefined;
}
/**
 * Validates a raw object against a DTO class the way the API's ValidationPipe does
 * (unknown fields are errors). Field paths start with `path` (e.g. `tasks.3`).
 */
async function validateDto(dtoClass, raw, path) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        return { value: new dtoClass(), errors: [{ field: path, messages: [`${path} must be an object`] }] };
    }
    const value = (0, class_transformer_1.plainToInstance)(dtoClass, raw);
    return { value, errors: (0, field_error_1.flattenValidationErrors)(await validateInstance(value), path) };
}
//# sourceMappingURL=payload-validation.js.map