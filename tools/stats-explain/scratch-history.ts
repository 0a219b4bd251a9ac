import { Client } from 'pg';
import { ensureDatabase, openDataSource, runMigrations } from '@taskq/persistence';

/**
 * The generated history both EXPLAIN tools measure (stats-explain, history-explain): a scratch
 * database migrated by the project's own migrations (so the indexes are the real ones), loaded
 * with set-based SQL with the indexes dropped, then indexed, vacuumed and analyzed.
 *
 * The mix, for TASKS tasks created evenly over DAYS days up to now:
 * - 5 types: noop 40 %, webhook 25 %, email 20 %, sleep 10 %, report 5 %;
 * - 20 tenants of very different sizes (tenant-00 about 22 % of the tasks, tenant-19 about
 *   2.5 %); tenants 15 to 19 never submit `report` (a filter that matches nothing);
 * - half the tasks carry an idempotency key (`key-<i>`), every task a small payload;
 * - the last 15 minutes' tasks are unfinished: queued, about 2 % retrying and the ones a
 *   worker holds active (with a `running` attempt); 0.5 % of the last day's tasks are delayed
 *   to a time up to a week ahead;
 * - the older ones finished: 3 % dead after 5 failed or timed-out attempts, 1 % cancelled
 *   before running, the rest completed after 1 to 5 attempts (33 %, 20 %, 20 %, 15 %, 12 %),
 *   every attempt but the last failed (65 %) or timed out; about one in 5,000 retried tasks
 *   has its first attempt row still `running` (a run nobody recorded: the reconciler's work);
 * - about 2.5 attempts per task.
 */

export const ADMIN_URL = process.env['STATS_EXPLAIN_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface HistoryShape {
  tasks: number;
  days: number;
}

export const databaseUrl = (database: string): string => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

export const out = (line = ''): void => void process.stdout.write(`${line}\n`);

export const logger =
  (tool: string) =>
  (line: string): void =>
    void process.stderr.write(`[${tool} ${new Date().toISOString()}] ${line}\n`);

const log = logger('history');

export async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  log(`${what}: ${((performance.now() - started) / 1_000).toFixed(1)} s`);
  return result;
}

/** The constraints and indexes of the two big tables, dropped for the load and made again after it. */
interface SchemaObjects {
  constraints: Array<{ table: string; name: string; definition: string; kind: string }>;
  indexes: Array<{ name: string; definition: string }>;
}

async function dropForLoad(client: Client): Promise<SchemaObjects> {
  const constraints = (
    await client.query<{ table: string; name: string; definition: string; kind: string }>(
      `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS definition, contype AS kind
         FROM pg_constraint
        WHERE (conrelid IN ('tasks'::regclass, 'task_attempts'::regclass) AND contype IN ('p', 'f'))
           OR (confrelid IN ('tasks'::regclass, 'task_attempts'::regclass) AND contype = 'f')`,
    )
  ).rows;
  const indexes = (
    await client.query<{ name: string; definition: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid IN ('tasks'::regclass, 'task_attempts'::regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
    )
  ).rows;
  for (const constraint of constraints.filter((c) => c.kind === 'f')) await client.query(`ALTER TABLE ${constraint.table} DROP CONSTRAINT ${constraint.name}`);
  for (const constraint of constraints.filter((c) => c.kind === 'p')) await client.query(`ALTER TABLE ${constraint.table} DROP CONSTRAINT ${constraint.name}`);
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  return { constraints, indexes };
}

async function restoreAfterLoad(client: Client, objects: SchemaObjects): Promise<void> {
  for (const constraint of objects.constraints.filter((c) => c.kind === 'p')) {
    await timed(`primary key of ${constraint.table}`, () => client.query(`ALTER TABLE ${constraint.table} ADD CONSTRAINT ${constraint.name} ${constraint.definition}`));
  }
  for (const index of objects.indexes) await timed(index.name, () => client.query(index.definition));
  for (const constraint of objects.constraints.filter((c) => c.kind === 'f')) {
    await timed(`foreign key ${constraint.name}`, () => client.query(`ALTER TABLE ${constraint.table} ADD CONSTRAINT ${constraint.name} ${constraint.definition}`));
  }
}

/**
 * Tasks i = first … last and their attempts, in one statement: the tasks' INSERT returns what
 * the attempts need. `$3` is the number of tasks in all, `$4` the span in days.
 */
const LOAD_CHUNK_SQL = `
WITH r AS (
  SELECT i, now() - $4::int * interval '1 day' * (1 - i::float8 / $3::float8) AS created_at,
         random() AS u_type, random() AS u_tenant, random() AS u_status, random() AS u_attempts, random() AS u_run, random() AS u_delay
    FROM generate_series($1::bigint, $2::bigint) AS i
   OFFSET 0
), s AS (
  SELECT r.*, tenant_no,
         CASE WHEN r.u_type < 0.05 AND tenant_no >= 15 THEN 'webhook'
              WHEN r.u_type < 0.05 THEN 'report' WHEN r.u_type < 0.15 THEN 'sleep' WHEN r.u_type < 0.35 THEN 'email'
              WHEN r.u_type < 0.60 THEN 'webhook' ELSE 'noop' END AS type,
         CASE WHEN r.created_at > now() - interval '15 minutes' THEN
                CASE WHEN r.u_status < 0.02 THEN 'retrying' WHEN r.created_at > now() - interval '2 minutes' AND r.u_status < 0.30 THEN 'active' ELSE 'queued' END
              WHEN r.created_at > now() - interval '1 day' AND r.u_delay < 0.005 THEN 'delayed'
              WHEN r.u_status < 0.03 THEN 'dead' WHEN r.u_status < 0.04 THEN 'cancelled' ELSE 'completed' END AS status
    FROM r, LATERAL (SELECT floor(20 * r.u_tenant ^ 2)::int AS tenant_no) n
), g AS (
  SELECT s.*,
         CASE s.status WHEN 'dead' THEN 5 WHEN 'cancelled' THEN 0 WHEN 'queued' THEN 0 WHEN 'delayed' THEN 0 WHEN 'retrying' THEN 1 WHEN 'active' THEN 1
              ELSE CASE WHEN s.u_attempts < 0.33 THEN 1 WHEN s.u_attempts < 0.53 THEN 2 WHEN s.u_attempts < 0.73 THEN 3 WHEN s.u_attempts < 0.88 THEN 4 ELSE 5 END END AS attempts
    FROM s
), t AS (
  INSERT INTO tasks (id, type, status, tenant, payload, result, max_attempts, attempts_made, backoff, timeout_ms, idempotency_key, run_at, next_attempt_at,
                     created_at, updated_at, started_at, finished_at, last_error, last_attempt_ms)
  SELECT gen_random_uuid(), g.type, g.status, 'tenant-' || lpad(g.tenant_no::text, 2, '0'),
         jsonb_build_object('url', 'https://hooks.example.com/orders/' || g.i, 'order', g.i),
         CASE WHEN g.status = 'completed' THEN '{"status":200}'::jsonb END,
         5, g.attempts, '{"type":"exponential","delayMs":1000,"maxDelayMs":60000,"jitter":"full"}', 10000,
         CASE WHEN g.i % 2 = 0 THEN 'key-' || g.i END,
         CASE WHEN g.status = 'delayed' THEN now() + g.u_run * interval '7 days' END,
         CASE WHEN g.status = 'retrying' THEN now() + interval '30 seconds' END,
         g.created_at, coalesce(f.finished_at, g.created_at + CASE WHEN g.attempts > 0 THEN interval '50 ms' ELSE interval '0' END),
         CASE WHEN g.attempts > 0 THEN g.created_at + interval '50 ms' END, f.finished_at,
         CASE WHEN g.status IN ('dead', 'retrying') THEN 'HTTP 503 from https://hooks.example.com' END,
         CASE WHEN g.status IN ('completed', 'dead', 'retrying') THEN (20 + 400 * g.u_run ^ 3)::int END
    FROM g, LATERAL (SELECT CASE WHEN g.status IN ('completed', 'dead', 'cancelled')
                                 THEN g.created_at + (0.1 + g.u_run * 3) * interval '1 second' + greatest(g.attempts - 1, 0) * interval '2 seconds' END AS finished_at) f
  RETURNING id, type, tenant, status, attempts_made, started_at, finished_at, last_attempt_ms
)
INSERT INTO task_attempts (task_id, number, worker_id, started_at, finished_at, duration_ms, outcome, error, type, tenant)
SELECT t.id, n, 'worker-' || (abs(hashtext(t.id::text)) % 8), a.started_at, a.finished_at,
       CASE WHEN a.outcome = 'running' THEN NULL ELSE a.duration_ms END, a.outcome,
       CASE WHEN a.outcome IN ('failed', 'timed_out') THEN 'HTTP 503 from https://hooks.example.com' END, t.type, t.tenant
  FROM t, generate_series(1, t.attempts_made) n,
       LATERAL (SELECT random() + 0 * n AS u) x, -- + 0 * n: one draw per attempt, not one for the statement
       LATERAL (SELECT CASE WHEN t.status = 'active' THEN t.started_at + interval '1 second'
                            WHEN t.status = 'retrying' THEN t.started_at + interval '1 second'
                            ELSE t.finished_at - (t.attempts_made - n) * interval '2 seconds' END AS finished_at,
                       CASE WHEN n = t.attempts_made AND t.last_attempt_ms IS NOT NULL THEN t.last_attempt_ms ELSE (20 + 400 * x.u ^ 3)::int END AS duration_ms,
                       CASE WHEN t.status = 'completed' AND n = t.attempts_made THEN 'completed'
                            WHEN t.status = 'active' THEN 'running'
                            WHEN t.status = 'completed' AND n = 1 AND x.u < 0.0002 THEN 'running'
                            WHEN x.u < 0.65 THEN 'failed' ELSE 'timed_out' END AS outcome) a0,
       LATERAL (SELECT a0.finished_at - a0.duration_ms * interval '1 ms' AS started_at, CASE WHEN a0.outcome = 'running' THEN NULL ELSE a0.finished_at END AS finished_at,
                       a0.duration_ms, a0.outcome) a
 WHERE t.attempts_made > 0`;

/**
 * Creates (or, with `reuse`, opens) the scratch database `database`, migrated, loaded with
 * the history of `shape`, indexed, vacuumed and analyzed. Returns a client on it.
 */
export async function scratchHistory(admin: Client, database: string, shape: HistoryShape, reuse: boolean): Promise<Client> {
  if (!reuse) {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await ensureDatabase({ url: databaseUrl(database) });
    const dataSource = await openDataSource({ url: databaseUrl(database) });
    await runMigrations(dataSource);
    await dataSource.destroy();
  }
  const client = new Client({ connectionString: databaseUrl(database) });
  await client.connect();
  if (reuse) return client;
  // Autovacuum would make the measured state depend on when it ran: the tools vacuum when they mean to.
  await client.query(`ALTER TABLE tasks SET (autovacuum_enabled = off)`);
  await client.query(`ALTER TABLE task_attempts SET (autovacuum_enabled = off)`);
  await client.query(`SET maintenance_work_mem = '1GB'`);
  await client.query(`SET session_replication_role = replica`);
  const objects = await dropForLoad(client);
  const chunk = 1_000_000;
  for (let first = 1; first <= shape.tasks; first += chunk) {
    const last = Math.min(shape.tasks, first + chunk - 1);
    await timed(`tasks ${first}…${last} and their attempts`, () => client.query(LOAD_CHUNK_SQL, [first, last, shape.tasks, shape.days]));
  }
  await client.query(`SET session_replication_role = DEFAULT`);
  await restoreAfterLoad(client, objects);
  await timed('VACUUM ANALYZE', () => client.query('VACUUM ANALYZE tasks, task_attempts'));
  return client;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of `sql`, twice: the first run's time, the second's time and plan.
 * With `rollBack` (a write), each run is in a transaction rolled back, so both see the same rows.
 */
export async function explain(client: Client, sql: string, params: unknown[], rollBack = false): Promise<{ plan: string; coldMs: number; warmMs: number }> {
  const run = async (): Promise<{ plan: string; ms: number }> => {
    if (rollBack) await client.query('BEGIN');
    const rows = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows;
    if (rollBack) await client.query('ROLLBACK');
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    return { plan, ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN) };
  };
  const cold = await run();
  const warm = await run();
  return { plan: warm.plan, coldMs: cold.ms, warmMs: warm.ms };
}

/** Table and index sizes, as Markdown. */
export async function printSizes(client: Client, relations: string[]): Promise<void> {
  const sizes = (
    await client.query<{ relation: string; rows: string; size: string }>(
      `SELECT c.relname AS relation, to_char(c.reltuples, 'FM999,999,999') AS rows, pg_size_pretty(pg_relation_size(c.oid)) AS size
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname = ANY($1::text[])
        ORDER BY c.relname`,
      [relations],
    )
  ).rows;
  out('| relation | rows | size |');
  out('|---|---:|---:|');
  for (const row of sizes) out(`| ${row.relation} | ${row.rows} | ${row.size} |`);
}
