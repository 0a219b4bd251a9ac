"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.flattenValidationErrors = flattenValidationErrors;
function flattenValidationErrors(errors, parentPath = '') {
    const flat = [];
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
function messagesOf(error, constraints) {
    const messages = Object.values(constraints);
    if (error.value !== undefined)
        return messages;
    const ownRequiredMessages = messages.filter((message) => message.includes('required'));
    return ownRequiredMessages.length > 0 ? ownRequiredMessages : [`${error.property} is required`];
}
//# sourceMappingURL=field-error.js.map