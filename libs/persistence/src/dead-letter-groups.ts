import type { DataSource } from 'typeorm';
import type { DeadLetterGroupView } from '@taskq/contracts';
import { rowsOf } from './rows-of';

/** Most groups `GET /dlq/groups` returns. */
export const MAX_DEAD_LETTER_GROUPS = 500;

/** The dead-letter queue seen by type and error: what died of what, and how often. */
export class DeadLetterGroups {
  constructor(private readonly dataSource: DataSource) {}

  /** Biggest groups first; `tenant` undefined: every tenant's dead tasks. */
  async list(tenant: string | undefined): Promise<DeadLetterGroupView[]> {
    const rows = await rowsOf<Omit<DeadLetterGroupView, 'firstDiedAt' | 'lastDiedAt'> & { firstDiedAt: Date; lastDiedAt: Date }>(
      this.dataSource,
      `SELECT type, last_error AS error, count(*)::int AS count, min(finished_at) AS "firstDiedAt", max(finished_at) AS "lastDiedAt"
         FROM tasks
        WHERE status = 'dead' AND ($1::text IS NULL OR tenant = $1)
        GROUP BY type, last_error
        ORDER BY count(*) DESC, type, last_error NULLS LAST
        LIMIT ${MAX_DEAD_LETTER_GROUPS}`,
      [tenant ?? null],
    );
    return rows.map((row) => ({ ...row, firstDiedAt: row.firstDiedAt.toISOString(), lastDiedAt: row.lastDiedAt.toISOString() }));
  }
}
