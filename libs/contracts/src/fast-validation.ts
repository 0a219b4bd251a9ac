import { Ajv, type SchemaObject, type ValidateFunction } from 'ajv';
import { ValidationTypes, getMetadataStorage, type MetadataStorage, type ValidationArguments } from 'class-validator';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/** A DTO class, as class-validator knows it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- class constructors of any arity
type DtoClass = new (...args: any[]) => object;

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

const ajv = new Ajv({ allErrors: false, strict: true, strictNumbers: true, code: { optimize: true } });

/** A constraint as class-validator runs it: its validator instances, with the decorator's arguments. */
interface Constraint {
  metadata: ValidationMetadata;
  validators: Array<{ validate(value: unknown, args: ValidationArguments): unknown }>;
}

/** The rules of one property, as class-validator runs them. */
interface PropertyRules {
  property: string;
  /** CONDITIONAL_VALIDATION (`@IsOptional`, `@ValidateIf`): all true, or the property is skipped. */
  conditions: Array<(object: object, value: unknown) => boolean>;
  /** IS_DEFINED, then CUSTOM_VALIDATION, in class-validator's order. */
  constraints: Constraint[];
  nested: boolean;
}

const rulesById: PropertyRules[] = [];

/** class-validator's own condition functions: true when the property is validated at all. */
function conditionsHold(rules: PropertyRules, object: object, value: unknown): boolean {
  for (const condition of rules.conditions) if (!condition(object, value)) return false;
  return true;
}

/** class-validator's own constraints, with the arguments it passes them; an asynchronous one counts as a no. */
function constraintsPass(rules: PropertyRules, object: object, value: unknown): boolean {
  // One arguments object for the property's constraints (they run one after another).
  const args: ValidationArguments = { targetName: object.constructor?.name, property: rules.property, object, value, constraints: [] };
  for (const { metadata, validators } of rules.constraints) {
    args.constraints = metadata.constraints;
    if (!metadata.each || !Array.isArray(value)) {
      // class-validator checks each item of an array, a Set or a Map; the fast path takes arrays only.
      if (metadata.each && (value instanceof Set || value instanceof Map)) return false;
      for (const validator of validators) if (validator.validate(value, args) !== true) return false;
    } else {
      for (const validator of validators) for (const item of value) if (validator.validate(item, args) !== true) return false;
    }
  }
  return true;
}

/** A nested DTO: an instance of a class that has a fast validator, and passes it. */
function nestedPasses(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const check = fastValidatorOf(value.constructor as DtoClass);
  return check !== null && check(value);
}

ajv.addKeyword({
  keyword: 'classValidatorRules',
  schemaType: 'number',
  errors: false,
  compile: (id: number) => {
    const rules = rulesById[id] as PropertyRules;
    return (value: unknown, context?: { parentData: object }): boolean => {
      const object = context?.parentData as object;
      if (!conditionsHold(rules, object, value)) return true;
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
  compile: (ids: number[]) => {
    const conditional = ids.map((id) => rulesById[id] as PropertyRules);
    return (object: Record<string, unknown>): boolean => conditional.every((rules) => object[rules.property] !== undefined || !conditionsHold(rules, object, undefined));
  },
});

const SUPPORTED = new Set<string>([
  ValidationTypes.CUSTOM_VALIDATION,
  ValidationTypes.IS_DEFINED,
  ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.WHITELIST,
  ValidationTypes.NESTED_VALIDATION,
]);

/** The compiled schema of a DTO class, or null when its rules are beyond the fast path. */
function compile(target: DtoClass): ValidateFunction | null {
  // The same selection of rules as class-validator's `validate(object, options)` without groups.
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(target, '', false, false, undefined);
  // class-validator refuses an instance of a class without rules (forbidUnknownValues).
  if (metadatas.length === 0) return null;
  if (metadatas.some((metadata) => !SUPPORTED.has(metadata.type) || metadata.validateIf !== undefined || (metadata.type === ValidationTypes.NESTED_VALIDATION && metadata.each))) return null;
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) byProperty.set(metadata.propertyName, [...(byProperty.get(metadata.propertyName) ?? []), metadata]);

  const properties: Record<string, SchemaObject> = {};
  const required: string[] = [];
  const conditional: number[] = [];
  for (const [property, rules] of byProperty) {
    const storage = getMetadataStorage();
    const compiled: PropertyRules = {
      property,
      conditions: rules.filter((rule) => rule.type === ValidationTypes.CONDITIONAL_VALIDATION).map((rule) => rule.constraints[0] as (object: object, value: unknown) => boolean),
      constraints: [...rules.filter((rule) => rule.type === ValidationTypes.IS_DEFINED), ...rules.filter((rule) => rule.type === ValidationTypes.CUSTOM_VALIDATION)].map((metadata) => ({
        metadata,
        validators: storage.getTargetValidatorConstraints(metadata.constraintCls).map((constraint) => constraint.instance),
      })),
      nested: rules.some((rule) => rule.type === ValidationTypes.NESTED_VALIDATION),
    };
    if (compiled.constraints.length === 0 && !compiled.nested) {
      // Only whitelisted (`@Allow()`), or only conditions: any value, or none.
      properties[property] = {};
      continue;
    }
    const id = rulesById.push(compiled) - 1;
    properties[property] = { classValidatorRules: id };
    // Absent: class-validator validates undefined (unless a condition says no) — the fast path does not decide that.
    if (compiled.conditions.length === 0) required.push(property);
    else conditional.push(id);
  }
  const schema: SchemaObject = {
    type: 'object',
    properties,
    additionalProperties: false,
    ...(required.length > 0 ? { required } : {}),
    ...(conditional.length > 0 ? { classValidatorAbsent: conditional } : {}),
  };
  return ajv.compile(schema);
}

const validators = new Map<DtoClass, ((instance: object) => boolean) | null>();

/**
 * The fast validator of a DTO class (compiled on first use), or null when the class has rules
 * it does not cover. It takes what class-transformer made of the body (`plainToInstance`)
 * and says true only for an instance class-validator would accept with
 * `{ whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }`.
 */
export function fastValidatorOf(target: DtoClass): ((instance: object) => boolean) | null {
  let validator = validators.get(target);
  if (validator === undefined) {
    // Set first: a DTO nesting itself compiles once.
    validators.set(target, null);
    const compiled = compile(target);
    validator = compiled && ((instance: object) => instance instanceof target && compiled(instance));
    validators.set(target, validator);
  }
  return validator;
}
