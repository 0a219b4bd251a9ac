import type { ReportPayload, ReportResult } from '@taskq/contracts';
import { TaskQueries } from '@taskq/persistence';
import { HandlesTask, type TaskHandler } from './task-handler';

const DEFAULT_WINDOW_MINUTES = 24 * 60;

/** Aggregates task history over a trailing window; the report is the task's stored result. */
@HandlesTask('report')
export class ReportHandler implements TaskHandler<'report'> {
  constructor(private readonly queries: TaskQueries) {}

  async handle(payload: ReportPayload): Promise<ReportResult> {
    const to = new Date();
    const from = new Date(to.getTime() - (payload.windowMinutes ?? DEFAULT_WINDOW_MINUTES) * 60_000);
    return { from: from.toISOString(), to: to.toISOString(), types: await this.queries.aggregate(from, to) };
  }
}
