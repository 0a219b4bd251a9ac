import { Client } from 'pg';
import { TaskQueries, TaskStatsStore, ensureDatabase, openDataSource, runMigrations, taskSearchStatements, taskStatsStatements } from '@taskq/persistence';

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statements behind `GET /stats` and `GET /tasks?q=` on a
 * generated history of TASKS tasks (default 10 million) and their attempts, in a scratch
 * database that is dropped at the end (unless --keep). Prints Markdown (docs/stats-queries.md).
 *
 *   npm run build && node -r ./runtime-paths.cjs dist/tools/stats-explain/main.js [--tasks N] [--keep] [--reuse]
 *
 * The history: tasks created evenly over the last 10 days (1 million a day at 10 million), 20
 * tenants, 5 types; 93 % completed (one in ten after a failed attempt), 3 % dead after 3 failed
 * attempts, 1 % cancelled, the last minute's still queued; half carry an idempotency key.
 */

const ADMIN_URL = process.env['STATS_EXPLAIN_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'taskq_stats_explain';
const args = process.argv.slice(2);
const TASKS = Number(args[args.indexOf('--tasks') + 1] ?? 0) || 10_000_000;
const KEEP = args.includes('--keep');
const REUSE = args.includes('--reuse');
const DAYS = 10;

const databaseUrl = (): string => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  return url.toString();
};

const out = (line = ''): void => void process.stdout.write(`${line}\n`);
const log = (line: string): void => void process.stderr.write(`[stats-explain ${new Date().toISOString()}] ${line}\n`);

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
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

/** Tasks i = 1 … N, created evenly over DAYS days up to now, in chunks of a million rows. */
async function loadTasks(client: Client): Promise<void> {
  const chunk = 1_000_000;
  for (let first = 1; first <= TASKS; first += chunk) {
    const last = Math.min(TASKS, first + chunk - 1);
    await timed(`tasks ${first}…${last}`, () =>
      client.query(
        `INSERT INTO tasks (id, type, status, tenant, payload, max_attempts, attempts_made, backoff, timeout_ms, idempotency_key, created_at, updated_at, started_at, finished_at,
                            last_error, last_attempt_ms)
         SELECT gen_random_uuid(), g.type, g.status, g.tenant, '{}', 3, g.attempts, '{"type":"exponential","delayMs":1000,"maxDelayMs":60000,"jitter":"full"}', 10000,
                CASE WHEN g.i % 2 = 0 THEN 'key-' || g.i END,
                g.created_at, coalesce(g.finished_at, g.created_at), CASE WHEN g.attempts > 0 THEN g.created_at + interval '50 ms' END, g.finished_at,
                CASE WHEN g.status = 'dead' THEN 'HTTP 503 from https://hooks.example.com' END,
                CASE WHEN g.attempts > 0 THEN (20 + 400 * g.u3 ^ 3)::int END
           FROM (
             SELECT s.i, s.type, s.tenant, s.created_at, s.status, s.u3,
                    CASE s.status WHEN 'completed' THEN CASE WHEN s.u2 < 0.1 THEN 2 ELSE 1 END WHEN 'dead' THEN 3 ELSE 0 END AS attempts,
                    CASE WHEN s.status IN ('completed', 'dead', 'cancelled') THEN s.created_at + (0.1 + s.u2 * 3) * interval '1 second' END AS finished_at
               FROM (
                 SELECT r.i,
                        (ARRAY['noop','noop','noop','noop','noop','noop','noop','noop','webhook','webhook','webhook','webhook','webhook',
                               'email','email','email','email','report','sleep','sleep'])[1 + r.i % 20] AS type,
                        'tenant-' || lpad(((r.i * 7919) % 20)::text, 2, '0') AS tenant,
                        r.created_at,
                        CASE WHEN r.created_at > now() - interval '1 minute' THEN 'queued'
                             WHEN r.u < 0.03 THEN 'dead' WHEN r.u < 0.04 THEN 'cancelled' ELSE 'completed' END AS status,
                        r.u2, r.u3
                   FROM (SELECT i, now() - interval '${DAYS} days' * (1 - i::float8 / $3::float8) AS created_at, random() AS u, random() AS u2, random() AS u3
                           FROM generate_series($1::bigint, $2::bigint) AS i OFFSET 0) r
               ) s
           ) g`,
        [first, last, TASKS],
      ),
    );
  }
}

/** One attempt per run: completed tasks' last one completed (after a failed one for some), dead tasks' three failed or timed out. */
async function loadAttempts(client: Client): Promise<void> {
  await timed('attempts', () =>
    client.query(
      `INSERT INTO task_attempts (task_id, number, worker_id, started_at, finished_at, duration_ms, outcome, error, type, tenant)
       SELECT t.id, n, 'worker-' || (abs(hashtext(t.id::text)) % 8), a.finished_at - a.duration_ms * interval '1 ms', a.finished_at, a.duration_ms, a.outcome,
              CASE WHEN a.outcome <> 'completed' THEN 'HTTP 503 from https://hooks.example.com' END, t.type, t.tenant
         FROM tasks t, generate_series(1, t.attempts_made) n,
              LATERAL (SELECT t.finished_at - (t.attempts_made - n) * interval '1 second' AS finished_at,
                              CASE WHEN n = t.attempts_made THEN t.last_attempt_ms ELSE (20 + 400 * random() ^ 3)::int END AS duration_ms,
                              CASE WHEN t.status = 'completed' AND n = t.attempts_made THEN 'completed' WHEN n = 2 THEN 'timed_out' ELSE 'failed' END AS outcome) a
        WHERE t.attempts_made > 0`,
    ),
  );
}

async function explain(client: Client, sql: string, params: unknown[]): Promise<{ plan: string; coldMs: number; warmMs: number }> {
  const run = async (): Promise<{ plan: string; ms: number }> => {
    const rows = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows;
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    return { plan, ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN) };
  };
  const cold = await run();
  const warm = await run();
  return { plan: warm.plan, coldMs: cold.ms, warmMs: warm.ms };
}

async function timedRead(read: () => Promise<unknown>): Promise<number> {
  await read();
  const started = performance.now();
  await read();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  if (!REUSE) {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await ensureDatabase({ url: databaseUrl() });
    const dataSource = await openDataSource({ url: databaseUrl() });
    await runMigrations(dataSource);
    await dataSource.destroy();
  }
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    if (!REUSE) {
      await client.query(`SET maintenance_work_mem = '1GB'`);
      await client.query(`SET session_replication_role = replica`);
      const objects = await dropForLoad(client);
      await loadTasks(client);
      await loadAttempts(client);
      await client.query(`SET session_replication_role = DEFAULT`);
      await restoreAfterLoad(client, objects);
      await timed('VACUUM ANALYZE', () => client.query('VACUUM ANALYZE tasks, task_attempts'));
    }
    await report(client);
  } finally {
    await client.end();
    if (!KEEP) await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}

async function report(client: Client): Promise<void> {
  const sizes = (
    await client.query<{ relation: string; rows: string; size: string }>(
      `SELECT c.relname AS relation, to_char(c.reltuples, 'FM999,999,999') AS rows, pg_size_pretty(pg_relation_size(c.oid)) AS size
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname IN ('tasks', 'task_attempts', 'tasks_finished_idx', 'task_attempts_failed_idx', 'tasks_tenant_created_idx', 'tasks_tenant_idempotency_key_idx')
        ORDER BY c.relname`,
    )
  ).rows;
  out('| relation | rows | size |');
  out('|---|---:|---:|');
  for (const row of sizes) out(`| ${row.relation} | ${row.rows} | ${row.size} |`);
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
