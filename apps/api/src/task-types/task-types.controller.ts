import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { TASK_TYPE_NAMES, getTaskType, type TaskTypeView } from '@taskq/contracts';
import { payloadSchemas } from './payload-schemas';
import { ANY_KEY, RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer } from '../docs/api-docs.decorators';

@Controller('task-types')
@RequiresScope(ANY_KEY)
@ApiTags('task types')
export class TaskTypesController {
  /** Every registered type with its payload schema and default options. */
  @Get()
  @ApiOperation({ summary: 'List the task types', description: 'Every registered type with its payload JSON Schema and default options.' })
  @ApiAnswer(200, 'Every registered type.', { type: 'array', items: { $ref: '#/components/schemas/TaskTypeView' } })
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
