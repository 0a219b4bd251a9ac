import { Controller, Get } from '@nestjs/common';
import { TASK_TYPE_NAMES, getTaskType, type TaskTypeView } from '@taskq/contracts';
import { payloadSchemas } from './payload-schemas';
import { ANY_KEY, RequiresScope } from '../auth/requires-scope.decorator';

@Controller('task-types')
@RequiresScope(ANY_KEY)
export class TaskTypesController {
  /** Every registered type with its payload schema and default options. */
  @Get()
  list(): TaskTypeView[] {
    const schemas = payloadSchemas();
    return TASK_TYPE_NAMES.map((type) => {
      const definition = getTaskType(type);
      return {
        type,
        description: definition.description,
        queue: definition.queue,
        payloadSchema: schemas.get(type) ?? { type: 'object' },
        defaults: {
          attempts: definition.attempts,
          backoff: definition.backoff,
          timeoutMs: definition.timeoutMs,
          concurrency: definition.concurrency,
        },
      };
    });
  }
}
