import { Client } from 'pg';
import { DataSource, type DataSourceOptions, type Logger as TypeOrmLogger } from 'typeorm';
import { MonitorConfig, loadConfig } from '@taskq/config';
import { TaskStatus } from '@taskq/contracts';
import { TaskMaintenance, TaskQueries, TaskStatsStore, dataSourceOptions, encodeCursor, type TaskListFilter } from '@taskq/persistence';
import { ADMIN_URL, databaseUrl, explain, logger, out, printSizes, scratchHistory, timed } from './scratch-history';

/**
 * The history at scale (issue 16): on a generated history of TASKS tasks (default 10 million)
 * and about 2.5 attempts each (25 million), created over DAYS days (default 31, one more than
 * the monitor's default retention), EXPLAIN (ANALYZE, BUFFERS) of every statement behind
 * - GET /tasks (filters, cursor pages, q search) and the submission's idempotency look-up,
 * - GET /tasks/:id with its attempts,
 * - GET /stats,
 * - the reconciler's pass over PostgreSQL (stray runs, unfinished tasks page by page, the
 *   states of a page of waiting jobs, the dead-letter resync),
 * and the retention clean-up of the oldest day, batch by batch as the monitor runs it (rows/s,
 * WAL, the time of each batch), then the VACUUM that follows it. Prints Markdown
 * (docs/benchmarks.md, "History at 10 million tasks and 25 million attempts").
 *
 * The statements are not re-typed: the tool calls the stores (TaskQueries, TaskStatsStore,
 * TaskMaintenance) with the monitor's configuration defaults and records every statement they
 * send (a TypeORM logger), then explains exactly those, with their parameters. The writes of
 * the reconciler are recorded without being run, and explained in a transaction rolled back.
 *
 *   npm run build && nice -n 10 node -r ./runtime-paths.cjs dist/tools/stats-explain/history-explain.js [--tasks N] [--days D] [--keep] [--reuse]
 *
 * The scratch database taskq_history_explain is dropped at the end unless --keep; --reuse
 * measures a kept one again (without the retention and churn steps, which change it).
 */

const DATABASE = 'taskq_history_explain';
const args = process.argv.slice(2);
const option = (name: string): number | undefined => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || undefined : undefined);
const TASKS = option('--tasks') ?? 10_000_000;
const DAYS = option('--days') ?? 31;
const KEEP = args.includes('--keep');
const REUSE = args.includes('--reuse');
const PAGE = 20; // the API's default page size (apps/api: DEFAULT_PAGE_SIZE)
const log = logger('history-explain');

interface Captured {
  sql: string;
  params: unknown[];
}

/** Records what the stores send; with `dryRun`, stops each statement before it reaches PostgreSQL. */
class CapturingLogger implements TypeOrmLogger {
  captured: Captured[] = [];
  dryRun = false;

  logQuery(query: string, parameters?: unknown[]): void {
    if (/^(START TRANSACTION|COMMIT|ROLLBACK|SET TRANSACTION)/i.test(query.trim()) || query.includes('set_config(')) return;
    this.captured.push({ sql: query, params: parameters ?? [] });
    if (this.dryRun) throw new DryRun();
  }
  // The rest is not recorded.
  logQueryError(): void {
    return undefined;
  }
  logQuerySlow(): void {
    return undefined;
  }
  logSchemaBuild(): void {
    return undefined;
  }
  logMigration(): void {
    return undefined;
  }
  log(): void {
    return undefined;
  }
}

class DryRun extends Error {}

interface Case {
  name: string;
  /** Calls the stores as the route does. */
  run: () => Promise<unknown>;
  /** A write: recorded, not run; explained in a transaction rolled back. */
  write?: boolean;
}

interface Row {
  name: string;
  statement: number;
  shape: string;
  rows: string;
  buffers: string;
  coldMs: number;
  warmMs: number;
  callMs?: number;
  warning: boolean;
}

const PLAN_NODE = /^\s*(?:->\s*)?((?:Parallel )?(?:Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan|Bitmap Index Scan|Sort|Incremental Sort|Hash Join|Merge Join|Nested Loop|HashAggregate|GroupAggregate|Aggregate|Limit|Gather Merge|Gather|Delete|Update|LockRows|Recursive Union|Unique|Append|Merge Append)[^(]*)\(cost=[^)]*\) \(actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)\)/;

/** A one-line shape: the scans and sorts, with the rows each produced; a warning for a sequential scan or a sort of many rows. */
function shapeOf(plan: string): { shape: string; rows: string; buffers: string; warning: boolean } {
  const nodes: string[] = [];
  let warning = false;
  for (const line of plan.split('\n')) {
    const match = PLAN_NODE.exec(line);
    if (!match) continue;
    const node = (match[1] ?? '').trim().replace(/ on (\w+) \w+$/, ' on $1');
    const rows = Number(match[2]) * Number(match[3]);
    if (/Scan|Sort/.test(node)) nodes.push(`${node} (${rows.toLocaleString('en-US')})`);
    if (/Seq Scan on (tasks|task_attempts)\b/.test(node) || (/Sort/.test(node) && rows > 100_000)) warning = true;
  }
  // Foreign-key work (the cascade of a DELETE) runs in triggers, outside the plan tree.
  for (const trigger of plan.matchAll(/Trigger for constraint (\w+): time=([\d.]+) calls=(\d+)/g)) nodes.push(`trigger ${trigger[1]} (${Number(trigger[3]).toLocaleString('en-US')} calls, ${trigger[2]} ms)`);
  const top = PLAN_NODE.exec(plan.split('\n')[0] ?? '');
  const buffers = /Buffers: ([^\n]+)/.exec(plan)?.[1] ?? '';
  return { shape: nodes.join(' → '), rows: top ? (Number(top[2]) * Number(top[3])).toLocaleString('en-US') : '', buffers, warning };
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  let client: Client | undefined;
  let dataSource: DataSource | undefined;
  try {
    client = await timed('history', () => scratchHistory(admin, DATABASE, { tasks: TASKS, days: DAYS }, REUSE));
    const capture = new CapturingLogger();
    dataSource = await new DataSource({ ...dataSourceOptions({ url: databaseUrl(DATABASE), poolSize: 2 }), logger: capture } as DataSourceOptions).initialize();
    await describe(client);
    const cases = await casesOf(client, dataSource);
    out();
    out('### Just vacuumed');
    const vacuumed = await measure(client, capture, cases, true);
    printTable(vacuumed);
    if (!REUSE) {
      await churn(client);
      out();
      out('### After a day of traffic since the last vacuum');
      out();
      out('Every task of the last 24 hours moved through queued → active → its final status again (three updates each), and every attempt of those tasks was rewritten: dead index entries in the `queued` and `active` ranges, and pages that are not all-visible, as between two autovacuums.');
      printTable(await measure(client, capture, cases, false));
      await retention(client, dataSource);
    }
    printPlans(vacuumed);
  } finally {
    await dataSource?.destroy();
    await client?.end();
    if (!KEEP) await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}

async function describe(client: Client): Promise<void> {
  out('### The history');
  out();
  await printSizes(client, [
    'tasks',
    'task_attempts',
    'tasks_pkey',
    'task_attempts_pkey',
    'tasks_created_idx',
    'tasks_status_created_idx',
    'tasks_type_created_idx',
    'tasks_tenant_created_idx',
    'tasks_finished_idx',
    'tasks_dead_idx',
    'tasks_tenant_idempotency_key_idx',
    'task_attempts_started_idx',
    'task_attempts_running_idx',
    'task_attempts_failed_idx',
  ]);
  const counts = (
    await client.query<{ what: string; count: string }>(
      `SELECT 'tasks, ' || status AS what, to_char(count(*), 'FM999,999,999') AS count FROM tasks GROUP BY status
       UNION ALL SELECT 'attempts, ' || outcome, to_char(count(*), 'FM999,999,999') FROM task_attempts GROUP BY outcome
       ORDER BY 1`,
    )
  ).rows;
  out();
  out('| rows | count |');
  out('|---|---:|');
  for (const row of counts) out(`| ${row.what} | ${row.count} |`);
}

/** A few real ids and keys to look up. */
async function casesOf(client: Client, dataSource: DataSource): Promise<Case[]> {
  const queries = new TaskQueries(dataSource);
  const stats = new TaskStatsStore(dataSource);
  const maintenance = new TaskMaintenance(dataSource);
  const monitor = loadConfig(MonitorConfig, {});
  const [sample] = (
    await client.query<{ id: string; tenant: string; key: string }>(
      `SELECT id, tenant, idempotency_key AS key FROM tasks WHERE status = 'dead' AND idempotency_key IS NOT NULL AND created_at < now() - interval '5 days' LIMIT 1`,
    )
  ).rows;
  if (!sample) throw new Error('no dead task with a key in the history');
  const dayAgo = new Date(Date.now() - 86_400_000);
  const weekAgo = new Date(Date.now() - 7 * 86_400_000);
  const middle = { at: new Date(Date.now() - (DAYS / 2) * 86_400_000), id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' };
  const list = (name: string, filter: Omit<TaskListFilter, 'limit'>): Case => ({ name: `GET /tasks ${name}`, run: () => queries.listTasks({ limit: PAGE, ...filter }) });
  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 60_000);
  const settledBefore = new Date(Date.now() - monitor.reconcileGraceMs);
  const firstPage = await queries.listTasks({ limit: PAGE });
  const waitingIds = (await client.query<{ id: string }>(`SELECT id FROM tasks WHERE status = 'queued' ORDER BY created_at DESC LIMIT $1`, [monitor.reconcileBatchSize])).rows.map(
    (row) => row.id,
  );
  const oneOfEach = (await client.query<{ id: string }>(`SELECT id FROM tasks TABLESAMPLE SYSTEM (0.1) LIMIT $1`, [monitor.reconcileBatchSize])).rows.map((row) => row.id);
  return [
    list('(admin, no filter)', {}),
    list('next page (cursor of the first)', firstPage.nextCursor ? { cursor: firstPage.nextCursor } : {}),
    list('cursor in the middle of the history', { cursor: encodeCursor(middle) }),
    list('?tenant=tenant-07 (a tenant key, no filter)', { tenant: 'tenant-07' }),
    list('?tenant=tenant-19 (a small tenant)', { tenant: 'tenant-19' }),
    list('?status=dead', { status: TaskStatus.Dead }),
    list('?status=queued', { status: TaskStatus.Queued }),
    list('?status=completed, tenant=tenant-19', { status: TaskStatus.Completed, tenant: 'tenant-19' }),
    list('?type=report', { type: 'report' }),
    list('?type=email, tenant=tenant-07', { type: 'email', tenant: 'tenant-07' }),
    list('?status=dead&type=report, tenant=tenant-07 (rare)', { status: TaskStatus.Dead, type: 'report', tenant: 'tenant-07' }),
    list('?type=report, tenant=tenant-19 (matches nothing)', { type: 'report', tenant: 'tenant-19' }),
    list('?from=<a week ago>&to=<an hour later>', { createdFrom: weekAgo, createdBefore: new Date(weekAgo.getTime() + 3_600_000) }),
    list('?from=<a day ago>&to=<an hour later>&type=email', { createdFrom: dayAgo, createdBefore: new Date(dayAgo.getTime() + 3_600_000), type: 'email' }),
    list('?from=<a day ago>, tenant=tenant-07, cursor in that day', { createdFrom: dayAgo, tenant: 'tenant-07', cursor: encodeCursor({ at: new Date(Date.now() - 3_600_000), id: middle.id }) }),
    list('?q=<key> (admin)', { search: sample.key }),
    list(`?q=<key>, tenant=${sample.tenant}`, { search: sample.key, tenant: sample.tenant }),
    list('?q=<task id> (admin)', { search: sample.id }),
    { name: 'POST /tasks: idempotency key look-up', run: () => queries.findByIdempotencyKey(sample.tenant, sample.key) },
    { name: 'GET /tasks/:id (admin; 5 attempts)', run: () => queries.findTask(sample.id) },
    { name: `GET /tasks/:id, tenant=${sample.tenant}`, run: () => queries.findTask(sample.id, sample.tenant) },
    { name: 'GET /stats?windowMinutes=60', run: () => stats.read({ from: new Date(to.getTime() - 3_600_000), to }) },
    { name: 'GET /stats?windowMinutes=60&tenant=tenant-07', run: () => stats.read({ from: new Date(to.getTime() - 3_600_000), to, tenant: 'tenant-07' }) },
    { name: 'GET /stats?windowMinutes=1440', run: () => stats.read({ from: new Date(to.getTime() - 86_400_000), to }) },
    {
      name: `reconciler: stray runs (batch ${monitor.reconcileBatchSize})`,
      write: true,
      run: () => maintenance.recordStrayRuns({ settledBefore, limit: monitor.reconcileBatchSize }, { error: 'explain', at: new Date() }),
    },
    ...([TaskStatus.Queued, TaskStatus.Retrying, TaskStatus.Active, TaskStatus.Delayed] as const).map(
      (status): Case => ({
        name: `reconciler: unfinished ${status}, first page (${monitor.reconcileBatchSize})`,
        run: () => queries.unfinishedTasksPage({ status, settledBefore, limit: monitor.reconcileBatchSize }),
      }),
    ),
    {
      name: 'reconciler: unfinished queued, a later page',
      run: async () => {
        const first = await queries.unfinishedTasksPage({ status: TaskStatus.Queued, settledBefore, limit: 100 });
        return first.next ? queries.unfinishedTasksPage({ status: TaskStatus.Queued, settledBefore, after: first.next, limit: monitor.reconcileBatchSize }) : first;
      },
    },
    { name: `reconciler: states of ${waitingIds.length} waiting jobs`, run: () => queries.taskStates(waitingIds) },
    { name: `reconciler: states of ${oneOfEach.length} jobs spread over the history`, run: () => queries.taskStates(oneOfEach) },
    { name: 'reconciler: the unfinished among a page (re-read before a repair)', run: () => queries.unfinishedTasks(waitingIds) },
    { name: 'reconciler: dead-letter resync (only when Redis lost the mirror)', run: () => queries.deadLetterEntries() },
    {
      name: `retention: one batch (${monitor.retentionBatchSize})`,
      write: true,
      run: () =>
        maintenance.deleteExpiredTasks({
          statuses: monitor.retentionIncludeDead ? [TaskStatus.Completed, TaskStatus.Cancelled, TaskStatus.Dead] : [TaskStatus.Completed, TaskStatus.Cancelled],
          finishedBefore: new Date(Date.now() - monitor.retentionDays * 86_400_000),
          limit: monitor.retentionBatchSize,
        }),
    },
  ];
}

const planOf = new Map<string, string>();

async function measure(client: Client, capture: CapturingLogger, cases: Case[], keepPlans: boolean): Promise<Row[]> {
  await client.query(`SET jit = off`);
  const rows: Row[] = [];
  for (const item of cases) {
    capture.captured = [];
    capture.dryRun = item.write === true;
    const started = performance.now();
    let callMs: number | undefined;
    try {
      await item.run();
      // The whole call as the route makes it, a second time (the first recorded the statements).
      const statements = [...capture.captured];
      const again = performance.now();
      await item.run();
      callMs = performance.now() - again;
      capture.captured = statements;
    } catch (error) {
      if (!(error instanceof DryRun)) throw error;
    } finally {
      capture.dryRun = false;
    }
    log(`${item.name}: ${(performance.now() - started).toFixed(0)} ms`);
    for (const [index, statement] of capture.captured.entries()) {
      const { plan, coldMs, warmMs } = await explain(client, statement.sql, statement.params, item.write === true);
      const shape = shapeOf(plan);
      rows.push({ name: item.name, statement: index + 1, ...shape, coldMs, warmMs, ...(index === 0 && callMs !== undefined ? { callMs } : {}) });
      if (keepPlans) planOf.set(`${item.name} #${index + 1}`, `${statement.sql.trim()}\n\n${plan}`);
    }
  }
  return rows;
}

function printTable(rows: Row[]): void {
  out();
  out('| route / caller | # | plan (rows out of each scan or sort) | rows | buffers | 1st, ms | 2nd, ms | call, ms |');
  out('|---|---:|---|---:|---|---:|---:|---:|');
  for (const row of rows) {
    out(
      `| ${row.name} | ${row.statement} | ${row.warning ? '**⚠** ' : ''}${row.shape} | ${row.rows} | ${row.buffers} | ${row.coldMs.toFixed(1)} | ${row.warmMs.toFixed(1)} | ${row.callMs === undefined ? '' : row.callMs.toFixed(1)} |`,
    );
  }
}

function printPlans(rows: Row[]): void {
  out();
  out('### Plans (just vacuumed, second run)');
  for (const row of rows) {
    const plan = planOf.get(`${row.name} #${row.statement}`);
    if (!plan) continue;
    out();
    out(`#### ${row.name} #${row.statement}`);
    out();
    out('```');
    out(plan);
    out('```');
  }
}

/** A day of traffic since the last vacuum: the last 24 hours' tasks moved through their statuses again, their attempts rewritten. */
async function churn(client: Client): Promise<void> {
  await timed('churn the last day', async () => {
    await client.query(`CREATE TEMP TABLE churned AS SELECT id, status FROM tasks WHERE created_at >= now() - interval '1 day' AND status NOT IN ('queued', 'delayed')`);
    await client.query(`UPDATE tasks t SET status = 'queued' FROM churned c WHERE t.id = c.id`);
    await client.query(`UPDATE tasks t SET status = 'active' FROM churned c WHERE t.id = c.id`);
    await client.query(`UPDATE tasks t SET status = c.status FROM churned c WHERE t.id = c.id`);
    await client.query(`UPDATE task_attempts a SET error = a.error FROM churned c WHERE a.task_id = c.id`);
    await client.query(`DROP TABLE churned`);
  });
}

const walNow = async (client: Client): Promise<string> => (await client.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0]?.lsn ?? '0/0';
const walSince = async (client: Client, lsn: string): Promise<number> =>
  Number((await client.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes`, [lsn])).rows[0]?.bytes ?? 0);
const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(0)} MB`;

/**
 * The retention clean-up of the oldest day, as RetentionProcessor.run does it: the monitor's
 * default cutoff (RETENTION_DAYS), statuses and batch size, one deleteExpiredTasks after
 * another until a batch comes back short. Then the VACUUM that reclaims it.
 */
async function retention(client: Client, dataSource: DataSource): Promise<void> {
  const monitor = loadConfig(MonitorConfig, {});
  const maintenance = new TaskMaintenance(dataSource);
  const finishedBefore = new Date(Date.now() - monitor.retentionDays * 86_400_000);
  const statuses: Array<TaskStatus.Completed | TaskStatus.Cancelled | TaskStatus.Dead> = [TaskStatus.Completed, TaskStatus.Cancelled];
  if (monitor.retentionIncludeDead) statuses.push(TaskStatus.Dead);
  const [expiring] = (
    await client.query<{ tasks: number; attempts: number }>(
      `SELECT count(*)::int AS tasks, (SELECT count(*)::int FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE t.status = ANY($1::text[]) AND t.finished_at < $2) AS attempts
         FROM tasks WHERE status = ANY($1::text[]) AND finished_at < $2`,
      [statuses, finishedBefore],
    )
  ).rows;
  // The churn's dead rows are vacuumed first, so that the VACUUM after the clean-up is the
  // clean-up's own; a checkpoint before each measured step makes their WAL comparable (every
  // page's first change after a checkpoint writes its full image, as it would in production).
  await client.query('CHECKPOINT');
  const churnLsn = await walNow(client);
  const churnStarted = performance.now();
  await client.query('VACUUM tasks, task_attempts');
  const churnVacuum = { seconds: (performance.now() - churnStarted) / 1_000, wal: await walSince(client, churnLsn) };
  await client.query('CHECKPOINT');
  const batchMs: number[] = [];
  let tasks = 0;
  let attempts = 0;
  const lsn = await walNow(client);
  const started = performance.now();
  for (;;) {
    const before = performance.now();
    const batch = await maintenance.deleteExpiredTasks({ statuses, finishedBefore, limit: monitor.retentionBatchSize });
    batchMs.push(performance.now() - before);
    tasks += batch.tasks;
    attempts += batch.attempts;
    if (batch.tasks < monitor.retentionBatchSize) break;
  }
  const seconds = (performance.now() - started) / 1_000;
  const wal = await walSince(client, lsn);
  log(`retention: ${tasks} tasks, ${attempts} attempts in ${seconds.toFixed(1)} s`);
  await client.query('CHECKPOINT');
  const vacuumLsn = await walNow(client);
  const vacuumStarted = performance.now();
  await client.query('VACUUM tasks, task_attempts');
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1_000;
  const vacuumWal = await walSince(client, vacuumLsn);
  const tenth = Math.max(1, Math.floor(batchMs.length / 10));
  const average = (values: number[]): string => (values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length)).toFixed(1);
  out();
  out(`### Retention of the oldest day (RETENTION_DAYS=${monitor.retentionDays}, batches of ${monitor.retentionBatchSize}, ${statuses.join(' and ')})`);
  out();
  out('| figure | value |');
  out('|---|---:|');
  out(`| expiring before the run: tasks, attempts | ${expiring?.tasks.toLocaleString('en-US')}, ${expiring?.attempts.toLocaleString('en-US')} |`);
  out(`| deleted: tasks, attempts | ${tasks.toLocaleString('en-US')}, ${attempts.toLocaleString('en-US')} |`);
  out(`| batches (DELETE statements) | ${batchMs.length} |`);
  out(`| wall time | ${seconds.toFixed(1)} s |`);
  out(`| tasks/s, attempts/s | ${(tasks / seconds).toFixed(0)}, ${(attempts / seconds).toFixed(0)} |`);
  out(`| WAL | ${mb(wal)} (${(wal / Math.max(1, tasks)).toFixed(0)} bytes per task) |`);
  out(`| batch time: first tenth, middle tenth, last tenth (mean, ms) | ${average(batchMs.slice(0, tenth))}, ${average(batchMs.slice(Math.floor(batchMs.length / 2) - Math.floor(tenth / 2), Math.floor(batchMs.length / 2) + Math.ceil(tenth / 2)))}, ${average(batchMs.slice(-tenth))} |`);
  out(`| slowest batch | ${Math.max(...batchMs).toFixed(1)} ms |`);
  out(`| VACUUM tasks, task_attempts afterwards | ${vacuumSeconds.toFixed(1)} s, WAL ${mb(vacuumWal)} |`);
  out(`| for comparison: the VACUUM of the day of churn, before the clean-up | ${churnVacuum.seconds.toFixed(1)} s, WAL ${mb(churnVacuum.wal)} |`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
