import { Client } from 'pg';
import { TaskQueries, TaskStatsStore, openDataSource, taskSearchStatements, taskStatsStatements } from '@taskq/persistence';
import { ADMIN_URL, databaseUrl as scratchUrl, explain, logger, out, printSizes, scratchHistory, timed } from './scratch-history';

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statements behind `GET /stats` and `GET /tasks?q=` on a
 * generated history of TASKS tasks (default 10 million) and their attempts, in a scratch
 * database that is dropped at the end (unless --keep). Prints Markdown (docs/stats-queries.md).
 *
 *   npm run build && node -r ./runtime-paths.cjs dist/tools/stats-explain/main.js [--tasks N] [--keep] [--reuse]
 *
 * The history (scratch-history.ts, shared with history-explain.ts): tasks created evenly over
 * the last 10 days (1 million a day at 10 million), 20 tenants of different sizes, 5 types,
 * 1 to 5 attempts per task, 3 % dead, 1 % cancelled, the last 15 minutes' still unfinished.
 */

const DATABASE = 'taskq_stats_explain';
const args = process.argv.slice(2);
const TASKS = Number(args[args.indexOf('--tasks') + 1] ?? 0) || 10_000_000;
const KEEP = args.includes('--keep');
const REUSE = args.includes('--reuse');
const DAYS = 10;

const databaseUrl = (): string => scratchUrl(DATABASE);
const log = logger('stats-explain');

async function timedRead(read: () => Promise<unknown>): Promise<number> {
  await read();
  const started = performance.now();
  await read();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  let client: Client | undefined;
  try {
    client = await scratchHistory(admin, DATABASE, { tasks: TASKS, days: DAYS }, REUSE);
    await report(client);
  } finally {
    await client?.end();
    if (!KEEP) await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}

async function report(client: Client): Promise<void> {
  await printSizes(client, ['tasks', 'task_attempts', 'tasks_finished_idx', 'task_attempts_failed_idx', 'tasks_tenant_created_idx', 'tasks_tenant_idempotency_key_idx']);
  const traffic = (
    await client.query<{ window: string; completed: number; dead: number; failed: number }>(
      `SELECT w.label AS window,
              (SELECT count(*) FROM tasks WHERE status = 'completed' AND finished_at >= now() - w.span)::int AS completed,
              (SELECT count(*) FROM tasks WHERE status = 'dead' AND finished_at >= now() - w.span)::int AS dead,
              (SELECT count(*) FROM task_attempts WHERE outcome IN ('failed','timed_out','lost') AND finished_at >= now() - w.span)::int AS failed
         FROM (VALUES ('last hour', interval '1 hour'), ('last day', interval '1 day')) AS w(label, span)`,
    )
  ).rows;
  out();
  out('| window | completed tasks | dead tasks | failed attempts |');
  out('|---|---:|---:|---:|');
  for (const row of traffic) out(`| ${row.window} | ${row.completed} | ${row.dead} | ${row.failed} |`);

  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 60_000);
  const vacuumed = await explainAll(client, to, false);
  // What a busy table looks like between two autovacuums: the window's rows rewritten since
  // the last one, so their pages are not all-visible and index-only scans must visit them.
  await timed('rewrite the last day', async () => {
    await client.query(`UPDATE tasks SET updated_at = updated_at WHERE finished_at >= now() - interval '1 day'`);
    await client.query(`UPDATE task_attempts SET error = error WHERE outcome IN ('failed','timed_out','lost') AND finished_at >= now() - interval '1 day'`);
  });
  const rewritten = await explainAll(client, to, true);
  out();
  out('| statement | just vacuumed: first run, ms | second run, ms | last day rewritten: first run, ms | second run, ms |');
  out('|---|---:|---:|---:|---:|');
  for (const [index, row] of vacuumed.entries()) {
    const worst = rewritten[index];
    out(`| ${row.heading} | ${row.coldMs.toFixed(1)} | ${row.warmMs.toFixed(1)} | ${worst?.coldMs.toFixed(1)} | ${worst?.warmMs.toFixed(1)} |`);
  }
  await requests(to);
}

interface Explained {
  heading: string;
  coldMs: number;
  warmMs: number;
}

/** Every statement of GET /stats for 60 and 1440 minutes, for every tenant and for one, and the search of GET /tasks?q=. */
async function explainAll(client: Client, to: Date, printPlans: boolean): Promise<Explained[]> {
  const explained: Explained[] = [];
  const show = (heading: string, plan: string): void => {
    if (!printPlans) return;
    out();
    out(`#### ${heading}`);
    out();
    out('```');
    out(plan);
    out('```');
  };
  await client.query(`SET jit = off`);
  for (const minutes of [60, 1_440]) {
    const from = new Date(to.getTime() - minutes * 60_000);
    for (const tenant of [undefined, 'tenant-07']) {
      const statements = taskStatsStatements(tenant !== undefined);
      const params = tenant === undefined ? [from, to] : [from, to, tenant];
      for (const [name, sql] of Object.entries(statements)) {
        const heading = `${name}, windowMinutes=${minutes}, ${tenant ? `tenant=${tenant}` : 'every tenant'}`;
        const { plan, coldMs, warmMs } = await explain(client, sql, params);
        explained.push({ heading, coldMs, warmMs });
        show(heading, plan);
      }
    }
  }
  const searches: Array<[string, boolean, unknown[]]> = [
    ['search by key, every tenant (admin)', false, ['key-4000000']],
    ['search by key, tenant=tenant-07', true, ['key-4000000', 'tenant-07']],
  ];
  for (const [heading, withTenant, params] of searches) {
    const { plan, coldMs, warmMs } = await explain(client, taskSearchStatements(withTenant).byKey, params);
    explained.push({ heading, coldMs, warmMs });
    show(heading, plan);
  }
  return explained;
}

/** The stores as the API calls them: every statement of a request, in its transaction. */
async function requests(to: Date): Promise<void> {
  const dataSource = await openDataSource({ url: databaseUrl() });
  try {
    const stats = new TaskStatsStore(dataSource, 60_000);
    const queries = new TaskQueries(dataSource);
    out();
    out('| request (as the API calls the store; second of two) | ms |');
    out('|---|---:|');
    for (const minutes of [60, 1_440]) {
      for (const tenant of [undefined, 'tenant-07']) {
        const from = new Date(to.getTime() - minutes * 60_000);
        const ms = await timedRead(() => stats.read({ from, to, ...(tenant ? { tenant } : {}) }));
        out(`| GET /stats?windowMinutes=${minutes}${tenant ? `&tenant=${tenant}` : ''} (PostgreSQL part) | ${ms.toFixed(0)} |`);
      }
    }
    const dayAgo = new Date(Date.now() - 86_400_000);
    for (const [label, filter] of [
      ['GET /tasks?q=key-4000000 (admin)', { search: 'key-4000000', limit: 20 }],
      ['GET /tasks?from=<a day ago>&to=<an hour later>&type=email', { createdFrom: dayAgo, createdBefore: new Date(dayAgo.getTime() + 3_600_000), type: 'email', limit: 20 }],
      ['GET /tasks?tenant=tenant-07&from=<a day ago>', { tenant: 'tenant-07', createdFrom: dayAgo, limit: 20 }],
    ] as const) {
      out(`| ${label} | ${(await timedRead(() => queries.listTasks(filter))).toFixed(0)} |`);
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
