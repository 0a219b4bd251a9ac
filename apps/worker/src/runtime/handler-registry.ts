import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { StartupFailure } from '@taskq/config';
import { TASK_TYPE_NAMES, isTaskType, type TaskType } from '@taskq/contracts';
import { TASK_HANDLER_METADATA, type TaskHandler } from '../handlers/task-handler';

/** Finds the `@HandlesTask` providers and insists on exactly one per registered type. */
@Injectable()
export class HandlerRegistry implements OnModuleInit {
  private readonly handlers = new Map<TaskType, TaskHandler<TaskType>>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const found = new Map<TaskType, string[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!metatype || typeof metatype !== 'function' || !wrapper.instance) continue;
      const type: unknown = Reflect.getMetadata(TASK_HANDLER_METADATA, metatype);
      if (type === undefined) continue;
      if (!isTaskType(type)) throw new StartupFailure(`${metatype.name} handles "${String(type)}", which is not a registered task type`);
      found.set(type, [...(found.get(type) ?? []), metatype.name]);
      this.handlers.set(type, wrapper.instance as TaskHandler<TaskType>);
    }
    const duplicated = [...found].filter(([, classes]) => classes.length > 1).map(([type, classes]) => `${type} (${classes.join(', ')})`);
    const missing = TASK_TYPE_NAMES.filter((type) => !found.has(type));
    const problems = [
      ...(missing.length ? [`no handler for: ${missing.join(', ')}`] : []),
      ...(duplicated.length ? [`more than one handler for: ${duplicated.join('; ')}`] : []),
    ];
    const where = missing.length ? ` (a type's handler is exported by apps/worker/src/handlers/<type>.handler.ts)` : '';
    if (problems.length) throw new StartupFailure(`refusing to start: ${problems.join('; ')}${where}`);
  }

  get<T extends TaskType>(type: T): TaskHandler<T> {
    const handler = this.handlers.get(type);
    if (!handler) throw new Error(`no handler for ${type}`);
    return handler as unknown as TaskHandler<T>;
  }
}
