"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.fastValidatorOf = fastValidatorOf;
const ajv_1 = require("ajv");
const class_validator_1 = require("class-validator");
/**
 * Fast path of validation: the class-validator DTOs, compiled once into an ajv validator that
 * answers yes or no without building a single error. Only a "no" goes to class-validator, for
 * the field errors it always gave; so the answers do not change, and a valid body costs a
 * fraction of a microsecond instead of several.
 *
 * It cannot accept what class-validator refuses, by construction: the compiled schema holds
 * only structure (an object, no property without a rule — `forbidNonWhitelisted` — and the
 * properties that must be there), and every rule is checked by calling class-validator's own
 * constraint or condition function with the arguments class-validator passes it. Where the two
 * could differ, the fast path says no: an absent property that has rules (class-validator may
 * or may not accept undefined), a nested value that is not an instance of a DTO class, an
 * asynchronous constraint. DTOs are validated after class-transformer, as class-validator
 * sees them, so `@Transform` and `@Type` apply alike.
 */
const ajv = new ajv_1.Ajv({ allErrors: false, strict: true, strictNumbers: true, code: { optimize: true } });
const rulesById = [];
/** class-validator's own condition functions: true when the property is validated at all. */
function conditionsHold(rules, object, value) {
    for (const condition of rules.conditions)
        if (!condition(object, value))
            return false;
    return true;
}
/** class-validator's own constraints, with the arguments it passes them; an asynchronous one counts as a no. */
function constraintsPass(rules, object, value) {
    // One arguments object for the property's constraints (they run one after another).
    const args = { targetName: object.constructor?.name, property: rules.property, object, value, constraints: [] };
    for (const { metadata, validators } of rules.constraints) {
        args.constraints = metadata.constraints;
        if (!metadata.each || !Array.isArray(value)) {
            // class-validator checks each item of an array, a Set or a Map; the fast path takes arrays only.
            if (metadata.each && (value instanceof Set || value instanceof Map))
                return false;
            for (const validator of validators)
                if (validator.validate(value, args) !== true)
                    return false;
        }
        else {
            for (const validator of validators)
                for (const item of value)
                    if (validator.validate(item, args) !== true)
                        return false;
        }
    }
    return true;
}
/** A nested DTO: an instance of a class that has a fast validator, and passes it. */
function nestedPasses(value) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
        return false;
    const check = fastValidatorOf(value.constructor);
    return check !== null && check(value);
}
ajv.addKeyword({
    keyword: 'classValidatorRules',
    schemaType: 'number',
    errors: false,
    compile: (id) => {
        const rules = rulesById[id];
        return (value, context) => {
            const object = context?.parentData;
            if (!conditionsHold(rules, object, value))
                return true;
            return constraintsPass(rules, object, value) && (!rules.nested || value === undefined || nestedPasses(value));
        };
    },
});
/** On the object: properties that are absent although their conditions hold (class-validator would validate undefined). */
ajv.addKeyword({
    keyword: 'classValidatorAbsent',
    type: 'object',
    schemaType: 'array',
    errors: false,
    compile: (ids) => {
        const conditional = ids.map((id) => rulesById[id]);
        return (object) => conditional.every((rules) => object[rules.property] !== undefined || !conditionsHold(rules, object, undefined));
    },
});
const SUPPORTED = new Set([
    class_validator_1.ValidationTypes.CUSTOM_VALIDATION,
    class_validator_1.ValidationTypes.IS_DEFINED,
    class_validator_1.ValidationTypes.CONDITIONAL_VALIDATION,
    class_validator_1.ValidationTypes.WHITELIST,
    class_validator_1.ValidationTypes.NESTED_VALIDATION,
]);
/** The compiled schema of a DTO class, or null when its rules are beyond the fast path. */
function compile(target) {
    // The same selection of rules as class-validator's `validate(object, options)` without groups.
    const metadatas = (0, class_validator_1.getMetadataStorage)().getTargetValidationMetadatas(target, '', false, false, undefined);
    // class-validator refuses an instance of a class without rules (forbidUnknownValues).
    if (metadatas.length === 0)
        return null;
    if (metadatas.some((metadata) => !SUPPORTED.has(metadata.type) || metadata.validateIf !== undefined || (metadata.type === class_validator_1.ValidationTypes.NESTED_VALIDATION && metadata.each)))
        return null;
    const byProperty = new Map();
    for (const metadata of metadatas)
        byProperty.set(metadata.propertyName, [...(byProperty.get(metadata.propertyName) ?? []), metadata]);
    const properties = {};
    const required = [];
    const conditional = [];
    for (const [property, rules] of byProperty) {
        const storage = (0, class_validator_1.getMetadataStorage)();
        const compiled = {
            property,
            conditions: rules.filter((rule) => rule.type === class_validator_1.ValidationTypes.CONDITIONAL_VALIDATION).map((rule) => rule.constraints[0]),
            constraints: [...rules.filter((rule) => rule.type === class_validator_1.ValidationTypes.IS_DEFINED), ...rules.filter((rule) => rule.type === class_validator_1.ValidationTypes.CUSTOM_VALIDATION)].map((metadata) => ({
                metadata,
                validators: storage.getTargetValidatorConstraints(metadata.constraintCls).map((constraint) => constraint.instance),
            })),
            nested: rules.some((rule) => rule.type === class_validator_1.ValidationTypes.NESTED_VALIDATION),
        };
        if (compiled.constraints.length === 0 && !compiled.nested) {
            // Only whitelisted (`@Allow()`), or only conditions: any value, or none.
            properties[property] = {};
            continue;
        }
        const id = rulesById.push(compiled) - 1;
        properties[property] = { classValidatorRules: id };
        // Absent: class-validator validates undefined (unless a condition says no) — the fast path does not decide that.
        if (compiled.conditions.length === 0)
            required.push(property);
        else
            conditional.push(id);
    }
    const schema = {
        type: 'object',
        properties,
        additionalProperties: false,
        ...(required.length > 0 ? { required } : {}),
        ...(conditional.length > 0 ? { classValidatorAbsent: conditional } : {}),
    };
    return ajv.compile(schema);
}
const validators = new Map();
/**
 * The fast validator of a DTO class (compiled on first use), or null when the class has rules
 * it does not cover. It takes what class-transformer made of the body (`plainToInstance`)
 * and says true only for an instance class-validator would accept with
 * `{ whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }`.
 */
function fastValidatorOf(target) {
    let validator = validators.get(target);
    if (validator === undefined) {
        // Set first: a DTO nesting itself compiles once.
        validators.set(target, null);
        const compiled = compile(target);
        validator = compiled && ((instance) => instance instanceof target && compiled(instance));
        validators.set(target, validator);
    }
    return validator;
}
//# sourceMappingURL=fast-validation.js.map