import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CallbackDeliveryView, CallbackView } from '@taskq/contracts';
import { isoOrNull as iso } from './iso-time';
import { rowsOf } from './rows-of';

/** A delivery a monitor has claimed: its lease keeps other monitors off until `locked_until`. */
export interface ClaimedCallback {
  id: string;
  taskId: string;
  tenant: string;
  event: CallbackView['event'];
  url: string;
  /** Tries made before this one. */
  attempts: number;
  createdAt: Date;
}

/** What one try gave; `next`: when to try again (null: no more tries, the delivery failed). */
export interface CallbackAttempt {
  id: string;
  attempt: number;
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  delivered: boolean;
  next: Date | null;
}

/** The key(s) a tenant's callbacks are signed with: the current one, and the one before during a rotation's grace period. */
export interface SigningSecrets {
  current: string;
  previous: string | null;
  rotatedAt: Date | null;
}

/** How long a rotated-out secret keeps signing, beside the new one. */
export const SIGNING_SECRET_GRACE_MS = 24 * 3_600_000;

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

const CALLBACK_COLUMNS = `id::text AS id, event, status, attempts, CASE WHEN status = 'pending' THEN next_attempt_at END AS "nextAttemptAt",
  delivered_at AS "deliveredAt", last_status_code AS "lastStatusCode", last_error AS "lastError"`;


/**
 * Completion callbacks: the deliveries tasks owe (recorded by a trigger as they finish, see
 * migration Callbacks1764000700000), their tries, and the tenants' signing secrets.
 */
export class CallbackStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The task's latest delivery, or null. */
  async latestFor(taskId: string): Promise<CallbackView | null> {
    const [row] = await rowsOf<Omit<CallbackView, 'nextAttemptAt' | 'deliveredAt'> & { nextAttemptAt: Date | null; deliveredAt: Date | null }>(
      this.dataSource,
      `SELECT ${CALLBACK_COLUMNS} FROM task_callbacks WHERE task_id = $1 ORDER BY id DESC LIMIT 1`,
      [taskId],
    );
    return row ? { ...row, nextAttemptAt: iso(row.nextAttemptAt), deliveredAt: iso(row.deliveredAt) } : null;
  }

  /** Every try of every delivery of the task, oldest first. */
  async deliveriesOf(taskId: string): Promise<CallbackDeliveryView[]> {
    const rows = await rowsOf<Omit<CallbackDeliveryView, 'at'> & { at: Date }>(
      this.dataSource,
      `SELECT c.id::text AS "callbackId", d.attempt, c.event, d.at, d.status_code AS "statusCode", d.error, d.duration_ms AS "durationMs"
         FROM task_callbacks c JOIN callback_deliveries d ON d.callback_id = c.id
        WHERE c.task_id = $1 ORDER BY c.id, d.attempt`,
      [taskId],
    );
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs`: no other monitor takes them meanwhile,
   * and a monitor killed mid-delivery leaves them to the next claim once the lease ends.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedCallback[]> {
    return rowsOf<ClaimedCallback>(
      this.dataSource,
      `UPDATE task_callbacks c SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
        WHERE c.id IN (SELECT id FROM task_callbacks
                        WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING c.id::text AS id, c.task_id AS "taskId", c.tenant, c.event, c.url, c.attempts, c.created_at AS "createdAt"`,
      [limit, leaseMs],
    );
  }

  /** Records one try and its consequence for the delivery, in one statement. */
  async recordAttempt(attempt: CallbackAttempt): Promise<void> {
    await this.dataSource.query(
      `WITH tried AS (
         INSERT INTO callback_deliveries (callback_id, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (callback_id, attempt) DO NOTHING
       )
       UPDATE task_callbacks
          SET attempts = GREATEST(attempts, $2), last_status_code = $4, last_error = $5, locked_until = NULL,
              status = CASE WHEN $7::boolean THEN 'delivered' WHEN $8::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
              delivered_at = CASE WHEN $7::boolean THEN $3::timestamptz END,
              next_attempt_at = COALESCE($8::timestamptz, next_attempt_at)
        WHERE id = $1 AND status = 'pending'`,
      [attempt.id, attempt.attempt, attempt.at, attempt.statusCode, attempt.error, attempt.durationMs, attempt.delivered, attempt.next],
    );
  }

  /** Deliveries waiting (metrics). */
  async pendingCount(): Promise<number> {
    const [row] = await rowsOf<{ count: number }>(this.dataSource, `SELECT count(*)::int AS count FROM task_callbacks WHERE status = 'pending'`, []);
    return row?.count ?? 0;
  }

  /** The tenant's signing secrets, made on first need. The previous one only within its grace period. */
  async signingSecrets(tenant: string): Promise<SigningSecrets> {
    const found = await this.readSecrets(tenant);
    if (found) return found;
    await this.dataSource.query(`INSERT INTO signing_secrets (tenant, secret) VALUES ($1, $2) ON CONFLICT (tenant) DO NOTHING`, [tenant, newSecret()]);
    const made = await this.readSecrets(tenant);
    if (!made) throw new Error(`no signing secret for tenant ${tenant}`);
    return made;
  }

  private async readSecrets(tenant: string): Promise<SigningSecrets | undefined> {
    const [row] = await rowsOf<SigningSecrets>(
      this.dataSource,
      `SELECT secret AS current, CASE WHEN rotated_at > now() - make_interval(secs => $2::double precision / 1000) THEN previous_secret END AS previous,
              rotated_at AS "rotatedAt"
         FROM signing_secrets WHERE tenant = $1`,
      [tenant, SIGNING_SECRET_GRACE_MS],
    );
    return row;
  }

  /** A new secret for the tenant; the old one keeps signing beside it for {@link SIGNING_SECRET_GRACE_MS}. */
  async rotate(tenant: string): Promise<SigningSecrets> {
    await this.signingSecrets(tenant);
    await this.dataSource.query(`UPDATE signing_secrets SET previous_secret = secret, secret = $2, rotated_at = now() WHERE tenant = $1`, [tenant, newSecret()]);
    return this.signingSecrets(tenant);
  }
}
