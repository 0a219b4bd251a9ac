import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { TASK_TYPE_NAMES, getTaskType, type TaskType } from '@taskq/contracts';

type JsonSchema = Record<string, unknown>;

let cache: Map<TaskType, JsonSchema> | undefined;

/** JSON Schema of each type's payload, derived from the same class-validator DTOs that validate it. */
export function payloadSchemas(): Map<TaskType, JsonSchema> {
  if (!cache) {
    const all = validationMetadatasToSchemas({ refPointerPrefix: '#/components/schemas/' }) as Record<string, JsonSchema>;
    cache = new Map(
      TASK_TYPE_NAMES.map((type) => {
        const schema = all[getTaskType(type).payload.name] ?? { type: 'object' };
        return [type, { ...schema, additionalProperties: false }];
      }),
    );
  }
  return cache;
}
