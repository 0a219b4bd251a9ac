import { setTimeout as sleep } from 'node:timers/promises';
import type { SleepPayload, SleepResult } from '@taskq/contracts';
import { HandlesTask, type TaskContext, type TaskHandler } from './task-handler';

@HandlesTask('sleep')
export class SleepHandler implements TaskHandler<'sleep'> {
  async handle(payload: SleepPayload, context: TaskContext): Promise<SleepResult> {
    await sleep(payload.ms, undefined, { signal: context.signal });
    return { sleptMs: payload.ms };
  }
}
