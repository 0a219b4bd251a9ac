import type { DataSource } from 'typeorm';
import type { TaskEventSink, TaskProgress, TaskProgressEvent } from '@taskq/contracts';
import { BatchWriter } from './batch-writer';
import { preparedRowsOf } from './rows-of';

export interface ProgressReport {
  taskId: string;
  /** The attempt that reports it: a run that has been superseded or has finished changes nothing. */
  attempt: number;
  progress: TaskProgress;
  at: Date;
}

/*
 * Latest progress only, and only while the reporting run is the task's current one: a report
 * that arrives after the outcome (or after a lost run was taken over) is dropped.
 */
const STORE_PROGRESS = `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS i(task_id uuid, attempt int, progress jsonb, at timestamptz) LIMIT $2
  )
  UPDATE tasks t SET progress = i.progress, progress_at = i.at
    FROM input i
   WHERE t.id = i.task_id AND t.status = 'active' AND t.attempts_made = i.attempt
  RETURNING t.id AS "taskId", t.type, t.tenant`;

/**
 * Handlers' progress reports, group-committed across tasks like the attempt records. Each
 * task's reports are throttled by the worker before they get here; what is stored is
 * announced to {@link TaskEventSink} after the commit.
 */
export class ProgressLog {
  private readonly writer: BatchWriter<ProgressReport, boolean>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events?: TaskEventSink,
  ) {
    this.writer = new BatchWriter((reports) => this.storeAll(reports), { maxBatchSize: 500, maxConcurrentFlushes: 1, lingerMs: 5 });
  }

  /** True when stored; false when the run is no longer the task's current one. */
  report(report: ProgressReport): Promise<boolean> {
    return this.writer.write(report);
  }

  async flush(): Promise<void> {
    await this.writer.drain();
  }

  private async storeAll(reports: ProgressReport[]): Promise<boolean[]> {
    // The latest report per task wins (the worker sends one at a time per task, so this is rare).
    const latest = new Map<string, ProgressReport>();
    for (const report of reports) latest.set(report.taskId, report);
    const input = [...latest.values()].map((r) => ({ task_id: r.taskId, attempt: r.attempt, progress: r.progress, at: r.at }));
    const rows = await preparedRowsOf<{ taskId: string; type: string; tenant: string }>(this.dataSource, 'taskq_store_progress', STORE_PROGRESS, [JSON.stringify(input), input.length]);
    const stored = new Map(rows.map((row) => [row.taskId, row]));
    const events: TaskProgressEvent[] = [];
    for (const row of rows) {
      const report = latest.get(row.taskId);
      if (report) events.push({ kind: 'progress', taskId: row.taskId, type: row.type, tenant: row.tenant, progress: report.progress, at: report.at.toISOString() });
    }
    if (events.length > 0) this.events?.publish(events);
    return reports.map((report) => stored.has(report.taskId) && latest.get(report.taskId) === report);
  }
}
