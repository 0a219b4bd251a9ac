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
      flat.push({ field, messages: messagesOf(error, error.constraints) });
    }
    if (error.children?.length) {
      flat.push(...flattenValidationErrors(error.children, field));
    }
  }
  return flat;
}

/**
 * A field that is absent fails every rule on it, and class-validator then lists each rule's
 * complaint about the value ("ms must not be greater than 300000"): say it is required instead,
 * unless the DTO's own message already says what is required.
 */
function messagesOf(error: ValidationError, constraints: Record<string, string>): string[] {
  const messages = Object.values(constraints);
  if (error.value !== undefined) return messages;
  const ownRequiredMessages = messages.filter((message) => message.includes('required'));
  return ownRequiredMessages.length > 0 ? ownRequiredMessages : [`${error.property} is required`];
}
