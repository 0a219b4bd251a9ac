import type { ValidationError } from 'class-validator';

/** One failing input field: `field` is a dotted path such as `payload.to`. */
export interface FieldError {
  field: string;
  messages: string[];
}

export function flattenValidationErrors(errors: ValidationError[], parentPath = ''): FieldError[] {
  const flat: FieldError[] = [];
  for (const error of errors) {
    const field = parentPath ? `${parentPath}.${error.property}` : error.property;
    if (error.constraints) {
      flat.push({ field, messages: Object.values(error.constraints) });
    }
    if (error.children?.length) {
      flat.push(...flattenValidationErrors(error.children, field));
    }
  }
  return flat;
}
