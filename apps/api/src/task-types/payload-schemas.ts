import { TASK_TYPE_NAMES, getTaskType, type TaskType } from '@taskq/contracts';
import { dtoSchemaOf, type JsonSchema } from '../docs/dto-schemas';

let cache: Map<TaskType, JsonSchema> | undefined;

/**
 * JSON Schema of each type's payload, derived from the same class-validator DTOs that validate
 * it (the OpenAPI document at /docs holds the same schemas).
 */
export function payloadSchemas(): Map<TaskType, JsonSchema> {
  cache ??= new Map(TASK_TYPE_NAMES.map((type) => [type, dtoSchemaOf(getTaskType(type).payload)]));
  return cache;
}
