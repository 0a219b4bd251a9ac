import { setTimeout as sleep } from 'node:timers/promises';
import type { SleepPayload, SleepResult } from '@taskq/contracts';
import { HandlesTask, type TaskContext, type TaskHandler } from './task-handler';

/** How often a sleep reports how far it is: often enough to watch, rare enough to be cheap. */
const PROGRESS_EVERY_MS = 250;

@HandlesTask('sleep')
export class SleepHandler implements TaskHandler<'sleep'> {
  async handle(payload: SleepPayload, context: TaskContext): Promise<SleepResult> {
    const started = Date.now();
    for (let slept = 0; slept < payload.ms; slept = Date.now() - started) {
      if (slept > 0) await context.progress(Math.min(100, Math.floor((slept / payload.ms) * 100)));
      await sleep(Math.min(PROGRESS_EVERY_MS, payload.ms - slept), undefined, { signal: context.signal });
    }
    if (payload.ms >= PROGRESS_EVERY_MS) await context.progress(100);
    return { sleptMs: payload.ms };
  }
}
