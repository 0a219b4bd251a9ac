import {
  apiFetch,
  freePort,
  queryDatabase,
  startBuiltApp,
  startPrivateRedisCluster,
  testDatabase,
  testRedisClient,
  uniquePrefix,
  waitFor,
  waitForHttp,
  type AppProcess,
  type PrivateRedisCluster,
} from '@taskq/testing';

/**
 * A master of a Redis Cluster is killed under load: the master that holds the noop queue,
 * while four clients keep submitting noop tasks. Submissions get 503 with Retry-After (never
 * a 500) until its replica has taken over, and every task accepted before, during and after
 * completes: the reconciler queues again whatever the dead master had not yet replicated.
 *
 * A fetch the dead master ran and replicated, but whose reply it never sent, leaves a job in
 * the new master's active list that no worker holds; BullMQ's stalled check takes it back once
 * its lock expires. The worker's lock lasts LOCK_MS here, so that bound is seconds, not the
 * default 30-60 s.
 */
const LOCK_MS = 3_000;
const db = testDatabase('cluster_failover');
const prefix = uniquePrefix('cluster-failover');
let cluster: PrivateRedisCluster;
const apps: AppProcess[] = [];
let baseUrl: string;

interface Submission {
  sentAt: number;
  at: number;
  status: number;
  retryAfter: string | null;
  id?: string;
}

beforeAll(async () => {
  cluster = await startPrivateRedisCluster({ masters: 3, replicas: 1 });
  const env = { DATABASE_URL: db.url, REDIS_URL: cluster.url, QUEUE_PREFIX: prefix, NODE_ENV: 'test', LOG_LEVEL: 'warn' };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  apps.push(startBuiltApp('api', { ...env, HOST: '127.0.0.1', PORT: String(port) }));
  await waitForHttp(`${baseUrl}/health/ready`, apps[0] as AppProcess);
  apps.push(startBuiltApp('worker', { ...env, WORKER_ID: 'failover-worker', WORKER_LOCK_DURATION_MS: String(LOCK_MS) }));
  const monitor = startBuiltApp('monitor', { ...env, LOG_LEVEL: 'info', RECONCILE_INTERVAL_MS: '500', RECONCILE_GRACE_MS: '1000' });
  apps.push(monitor);
  await waitFor(() => monitor.output().includes('taskq monitor started'), { timeoutMs: 30_000, description: 'the monitor started' });
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  await cluster?.stop();
  await db.drop();
});

async function submit(): Promise<Submission> {
  const sentAt = Date.now();
  try {
    const response = await apiFetch(`${baseUrl}/submit-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"noop","payload":{}}' });
    const body = (await response.json()) as { id?: string };
    return { sentAt, at: Date.now(), status: response.status, retryAfter: response.headers.get('retry-after'), ...(body.id ? { id: body.id } : {}) };
  } catch {
    return { sentAt, at: Date.now(), status: 0, retryAfter: null };
  }
}

it('answers 503 while a killed master’s replica takes over, loses no accepted task, and recovers', async () => {
  const probe = testRedisClient(cluster.url);
  const slot = Number(await probe.cluster('KEYSLOT', '{noop}'));
  probe.disconnect();
  const master = await cluster.masterOf(slot);

  const submissions: Submission[] = [];
  let killedAt = Number.POSITIVE_INFINITY;
  const settled = (): boolean => {
    const after = submissions.filter((submission) => submission.at > killedAt + 2_000);
    return after.length >= 40 && after.slice(-40).every((submission) => submission.status === 202);
  };
  const deadline = Date.now() + 60_000;
  const clients = Array.from({ length: 4 }, async () => {
    while (!settled() && Date.now() < deadline) submissions.push(await submit());
  });
  await waitFor(() => submissions.filter((submission) => submission.status === 202).length >= 100, { timeoutMs: 20_000, description: '100 tasks accepted before the kill' });
  killedAt = Date.now();
  await master.kill();
  await Promise.all(clients);
  expect(settled()).toBe(true);

  // The replica is the master of the slot now.
  expect((await cluster.masterOf(slot)).port).not.toBe(master.port);

  const refused = submissions.filter((submission) => submission.status !== 202);
  expect(refused.map((submission) => submission.status).filter((status) => status !== 503)).toEqual([]);
  expect(refused.every((submission) => submission.retryAfter !== null)).toBe(true);
  const accepted = submissions.filter((submission) => submission.status === 202).map((submission) => submission.id as string);

  const sinceKill = (at: number | undefined): string => (at === undefined ? '-' : `${at - killedAt} ms`);
  const afterKill = submissions.filter((submission) => submission.at > killedAt);
  const slowest = Math.max(...afterKill.map((submission) => submission.at - submission.sentAt));
  const firstAccepted = afterKill.find((submission) => submission.status === 202 && submission.sentAt > (refused.at(-1)?.sentAt ?? killedAt));
  console.log(
    `fail-over: ${submissions.length} submissions, ${accepted.length} accepted, ${refused.length} answered 503 ` +
      `(first ${sinceKill(refused[0]?.at)}, last ${sinceKill(refused.at(-1)?.at)} after the kill); slowest answer ${slowest} ms; ` +
      `submissions accepted again ${sinceKill(firstAccepted?.at)} after the kill`,
  );

  // Every accepted task completes: none lost with the master's unreplicated writes, none left
  // in an orphaned fetch longer than the lock and a stalled check (2 × LOCK_MS) after the fail-over.
  const completedAt = await waitFor(
    async () => {
      const [row] = await queryDatabase<{ done: number }>(db.url, "SELECT count(*)::int AS done FROM tasks WHERE id = ANY($1::uuid[]) AND status = 'completed'", [accepted]);
      return row?.done === accepted.length ? Date.now() : undefined;
    },
    { timeoutMs: 30_000, description: `all ${accepted.length} accepted tasks completed` },
  ).catch(async (error: unknown) => {
    const statuses = await queryDatabase<{ status: string; n: number }>(db.url, 'SELECT status, count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) GROUP BY status', [accepted]);
    const unfinished = await queryDatabase<{ id: string }>(db.url, "SELECT id FROM tasks WHERE id = ANY($1::uuid[]) AND status <> 'completed'", [accepted]);
    const redis = testRedisClient(cluster.url);
    const places: string[] = [];
    const queue = `${prefix}:{noop}`;
    for (const { id } of unfinished.slice(0, 5)) {
      const [active, wait, prioritized, lock] = await Promise.all([
        redis.lpos(`${queue}:active`, id),
        redis.lpos(`${queue}:wait`, id),
        redis.zscore(`${queue}:prioritized`, id),
        redis.exists(`${queue}:${id}:lock`),
      ]);
      places.push(`${id}: active=${active} wait=${wait} prioritized=${prioritized} lock=${lock} job=${await redis.exists(`${queue}:${id}`)}`);
    }
    redis.disconnect();
    console.log(`fail-over: unfinished in Redis\n${places.join('\n')}`);
    const tail = (app: AppProcess | undefined): string => (app?.output() ?? '').split('\n').slice(-25).join('\n');
    console.log(`fail-over: tasks by status ${JSON.stringify(statuses)}\n-- worker --\n${tail(apps[1])}\n-- monitor --\n${tail(apps[2])}`);
    throw error;
  });
  const [attempts] = await queryDatabase<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM task_attempts WHERE task_id = ANY($1::uuid[])', [accepted]);
  console.log(`fail-over: every accepted task completed ${completedAt - killedAt} ms after the kill, in ${attempts?.n} attempts`);
}, 150_000);
