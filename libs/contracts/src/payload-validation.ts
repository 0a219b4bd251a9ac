import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { flattenValidationErrors, type FieldError } from './field-error';
import { getTaskType, type PayloadOf, type TaskType } from './task-registry';

export type PayloadValidation<T extends TaskType> =
  | { valid: true; payload: PayloadOf<T> }
  | { valid: false; errors: FieldError[] };

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
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) return { valid: false, errors: flattenValidationErrors(errors, 'payload') };
  return { valid: true, payload: instance };
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
  const errors = await validate(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return { value, errors: flattenValidationErrors(errors, path) };
}
