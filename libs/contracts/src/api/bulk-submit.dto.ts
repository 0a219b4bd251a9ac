import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { SubmitTaskDto, type SubmitTaskResponse } from './submit-task.dto';

export const MAX_BULK_TASKS = 1_000;

/** Body of `POST /tasks/bulk`: all tasks are accepted, or none. */
export class BulkSubmitDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_TASKS)
  @ValidateNested({ each: true })
  @Type(() => SubmitTaskDto)
  tasks!: SubmitTaskDto[];
}

export interface BulkSubmitResponse {
  count: number;
  tasks: SubmitTaskResponse[];
}
