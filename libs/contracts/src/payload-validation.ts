import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError, type ValidatorOptions } from 'class-validator';
import { fastValidatorOf } from './fast-validation';
import { flattenValidationErrors, type FieldError } from './field-error';
import { getTaskType, type PayloadOf, type TaskType } from './task-registry';

export type PayloadValidation<T extends TaskType> =
  | { valid: true; payload: PayloadOf<T> }
  | { valid: false; errors: FieldError[] };

/** How taskq validates every DTO: unknown fields are errors. */
export const VALIDATOR_OPTIONS: ValidatorOptions = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true };

/**
 * Validates what class-transformer made of a body: the fast validator says yes for most, and
 * only what it does not accept goes through class-validator, which names the failing fields
 * (see fastValidatorOf). Resolves with those errors: none for a valid instance.
 */
export async function validateInstance(instance: object): Promise<ValidationError[]> {
  if (fastValidatorOf(instance.constructor as new () => object)?.(instance)) return [];
  return validate(instance, VALIDATOR_OPTIONS);
}

/**
 * Validates a raw payload against its type's DTO: unknown fields are errors.
 * Field paths are prefixed with `payload.` so they read the same as the request body.
 */
export async function validatePayload<T extends TaskType>(type: T, raw: unknown): Promise<PayloadValidation<T>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { valid: false, errors: [{ field: 'payload', messages: ['payload must be an object'] }] };
  }
  const definition = getTaskType(type);
  const instance = plainToInstance(definition.payload, raw) as PayloadOf<T>;
  const errors = await validateInstance(instance);
  if (errors.length > 0) return { valid: false, errors: flattenValidationErrors(errors, 'payload') };
  return { valid: true, payload: instance };
}

/**
 * The valid payload at once when the fast validator accepts it (see validateInstance), else
 * undefined: then validatePayload decides, naming the failing fields.
 */
export function validPayloadNow<T extends TaskType>(type: T, raw: unknown): { valid: true; payload: PayloadOf<T> } | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const definition = getTaskType(type);
  const instance = plainToInstance(definition.payload, raw) as PayloadOf<T>;
  return fastValidatorOf(definition.payload)?.(instance) ? { valid: true, payload: instance } : undefined;
}

/**
 * The DTO instance at once when the fast validator accepts `raw`, else undefined: then
 * validateDto decides, naming the failing fields.
 */
export function validDtoNow<T extends object>(dtoClass: new () => T, raw: unknown): T | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const value = plainToInstance(dtoClass, raw);
  return fastValidatorOf(dtoClass)?.(value) ? value : undefined;
}

/**
 * Validates a raw object against a DTO class the way the API's ValidationPipe does
 * (unknown fields are errors). Field paths start with `path` (e.g. `tasks.3`).
 */
export async function validateDto<T extends object>(dtoClass: new () => T, raw: unknown, path: string): Promise<{ value: T; errors: FieldError[] }> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { value: new dtoClass(), errors: [{ field: path, messages: [`${path} must be an object`] }] };
  }
  const value = plainToInstance(dtoClass, raw);
  return { value, errors: flattenValidationErrors(await validateInstance(value), path) };
}
