import type { NoopPayload, NoopResult } from '@taskq/contracts';
import { HandlesTask, type TaskHandler } from './task-handler';

@HandlesTask('noop')
export class NoopHandler implements TaskHandler<'noop'> {
  async handle(payload: NoopPayload): Promise<NoopResult> {
    return payload.note === undefined ? { ok: true } : { ok: true, note: payload.note };
  }
}
