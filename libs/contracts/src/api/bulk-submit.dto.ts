import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject } from 'class-validator';
import type { SubmitTaskResponse } from './submit-task.dto';

export const MAX_BULK_TASKS = 1_000;

/**
 * Body of `POST /tasks/bulk`: all tasks are accepted, or none. Each task is a
 * {@link SubmitTaskDto}; it is validated one by one so that one answer names every failing index.
 */
export class BulkSubmitDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_TASKS)
  @IsObject({ each: true })
  tasks!: Array<Record<string, unknown>>;
}

export interface BulkSubmitResponse {
  count: number;
  /** In request order. A task whose idempotency key was seen before is the original task. */
  tasks: SubmitTaskResponse[];
}
