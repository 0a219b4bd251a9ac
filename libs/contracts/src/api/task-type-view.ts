import type { BackoffPolicy } from '../backoff-policy';

/** One entry of `GET /task-types`. */
export interface TaskTypeView {
  type: string;
  description: string;
  queue: string;
  payloadSchema: Record<string, unknown>;
  defaults: {
    attempts: number;
    backoff: BackoffPolicy;
    timeoutMs: number;
    concurrency: number;
  };
}
