import type { TaskStatus } from '@taskq/contracts';

/** Which tasks a bulk lifecycle change applies to. */
export interface TaskSelection {
  ids?: string[];
  statuses: TaskStatus[];
  /** Only this tenant's tasks; undefined: every tenant's (admin keys). */
  tenant?: string;
  type?: string;
  /** Only the tasks whose last error is exactly this (a dead-letter group). */
  error?: string;
  /** On finished_at: [from, to). */
  finishedFrom?: Date;
  finishedTo?: Date;
}

/** The selection as a WHERE clause on `tasks`, with its parameters ($1 onwards). */
export function selectionSql(selection: TaskSelection): { where: string; params: unknown[] } {
  const params: unknown[] = [selection.statuses];
  const clauses = ['status = ANY($1::text[])'];
  if (selection.ids) {
    params.push(selection.ids);
    clauses.push(`id = ANY($${params.length}::uuid[])`);
  }
  if (selection.tenant !== undefined) {
    params.push(selection.tenant);
    clauses.push(`tenant = $${params.length}`);
  }
  if (selection.type) {
    params.push(selection.type);
    clauses.push(`type = $${params.length}`);
  }
  if (selection.error !== undefined) {
    params.push(selection.error);
    clauses.push(`last_error = $${params.length}`);
  }
  if (selection.finishedFrom) {
    params.push(selection.finishedFrom);
    clauses.push(`finished_at >= $${params.length}`);
  }
  if (selection.finishedTo) {
    params.push(selection.finishedTo);
    clauses.push(`finished_at < $${params.length}`);
  }
  return { where: clauses.join(' AND '), params };
}
