import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import {
  TEST_API_KEY,
  freePort,
  startAppProcess,
  startPrivatePostgres,
  startPrivateRedis,
  waitFor,
  waitForHttp,
  type AppProcess,
  type PrivatePostgres,
  type PrivateRedis,
} from '@taskq/testing';

export const WORKSPACE_ROOT = join(__dirname, '../../../..');

/**
 * How fast the stack notices faults in these scenarios (production defaults are slower):
 * a killed worker's job is taken again within about 2 × LOCK_MS, and the reconciler repairs
 * what Redis lost within RECONCILE_INTERVAL_MS + RECONCILE_GRACE_MS.
 */
export const LOCK_MS = 2_000;
export const RECONCILE_INTERVAL_MS = 2_000;
export const RECONCILE_GRACE_MS = 3_000;

/**
 * The longest a task stays unfinished after the last fault, given the settings above: a stall
 * is noticed after the lock expires and a stalled-job check runs (≤ 2 × LOCK_MS + LOCK_MS),
 * the reconciler's next run after its grace (interval + grace + the task's own timeout when it
 * was running), a late worker's start-up, and the task's remaining work and backoff.
 */
export function recoveryBoundMs(taskTimeoutMs: number, workMs: number): number {
  return 3 * LOCK_MS + RECONCILE_INTERVAL_MS + RECONCILE_GRACE_MS + taskTimeoutMs + workMs + 15_000;
}

export type AppName = 'api' | 'worker' | 'monitor';

export interface TaskRow {
  id: string;
  type: string;
  status: string;
  attempts_made: number;
  attempt_base: number;
  max_attempts: number;
}

export interface AttemptRow {
  task_id: string;
  number: number;
  worker_id: string;
  outcome: string;
  error: string | null;
}

export interface SubmitAnswer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
  ms: number;
}

/**
 * One whole taskq on private services: its own PostgreSQL (initdb in a temporary directory)
 * and Redis on free loopback ports, and the built api, workers and monitor as separate
 * processes, exactly as `npm start` runs them. Faults are real: SIGKILL, `pg_ctl stop`,
 * FLUSHALL, a redis-server killed and started again empty.
 */
export class FaultStack {
  postgres!: PrivatePostgres;
  redis!: PrivateRedis;
  redisPort!: number;
  databaseUrl!: string;
  apiUrl!: string;
  api?: AppProcess;
  monitor?: AppProcess;
  readonly workers = new Map<string, AppProcess>();
  private readonly stopped: AppProcess[] = [];
  private readonly prefix = 'faults';
  private workerCount = 0;

  constructor(readonly name: string) {}

  static async start(name: string, options: { workers?: number; apiRedisUrl?: (redisUrl: string) => Promise<string> } = {}): Promise<FaultStack> {
    const stack = new FaultStack(name);
    [stack.postgres, stack.redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    stack.redisPort = Number(new URL(stack.redis.url).port);
    stack.databaseUrl = stack.postgres.url.replace(/\/postgres$/, '/taskq');
    const apiRedisUrl = options.apiRedisUrl ? await options.apiRedisUrl(stack.redis.url) : stack.redis.url;
    await stack.startApi(apiRedisUrl);
    await stack.startMonitor();
    for (let i = 0; i < (options.workers ?? 1); i++) await stack.startWorker();
    return stack;
  }

  private env(): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: this.prefix,
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      STARTUP_CHECK_TIMEOUT_MS: '30000',
    };
  }

  private spawn(app: AppName, env: Record<string, string>): AppProcess {
    const entry = join(WORKSPACE_ROOT, 'dist/apps', app, 'src/main.js');
    return startAppProcess(['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), entry], { ...this.env(), ...env }, WORKSPACE_ROOT);
  }

  async startApi(redisUrl = this.redis.url): Promise<AppProcess> {
    const port = await freePort();
    this.apiUrl = `http://127.0.0.1:${port}`;
    this.api = this.spawn('api', { REDIS_URL: redisUrl, API_KEY: TEST_API_KEY, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_REQUESTS: '1000000' });
    await waitForHttp(`${this.apiUrl}/health/ready`, this.api, 60_000);
    return this.api;
  }

  async startMonitor(): Promise<AppProcess> {
    this.monitor = this.spawn('monitor', {
      METRICS_PORT: '-1',
      RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
      RECONCILE_GRACE_MS: String(RECONCILE_GRACE_MS),
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    const monitor = this.monitor;
    await waitFor(() => monitor.child.exitCode !== null || monitor.output().includes('taskq monitor started'), { timeoutMs: 60_000, description: 'the monitor started' });
    if (monitor.child.exitCode !== null) throw new Error(`the monitor exited:\n${monitor.output()}`);
    return monitor;
  }

  /** A worker process (`w1`, `w2`, … unless named); resolves once it serves its queues. */
  async startWorker(env: Record<string, string> = {}): Promise<string> {
    const id = env['WORKER_ID'] ?? `w${++this.workerCount}`;
    const worker = this.spawn('worker', { METRICS_PORT: '-1', WORKER_ID: id, WORKER_LOCK_DURATION_MS: String(LOCK_MS), SHUTDOWN_TIMEOUT_MS: '3000', ...env });
    this.workers.set(id, worker);
    await waitFor(() => worker.child.exitCode !== null || worker.output().includes(`taskq worker ${id} started`), { timeoutMs: 60_000, description: `worker ${id} started` });
    if (worker.child.exitCode !== null) throw new Error(`worker ${id} exited:\n${worker.output()}`);
    return id;
  }

  /** SIGKILL: no shutdown hook runs, locks stay until they expire. */
  async kill(process: AppProcess | undefined): Promise<void> {
    if (!process || process.child.exitCode !== null || process.child.signalCode !== null) return;
    process.child.kill('SIGKILL');
    await process.exited();
    this.stopped.push(process);
  }

  async killWorker(id: string): Promise<void> {
    await this.kill(this.workers.get(id));
    this.workers.delete(id);
  }

  /** redis-server SIGKILLed, then (after `downMs`) started again on its port without any data. */
  async killRedis(): Promise<void> {
    await this.redis.stop();
  }

  async restartRedisEmpty(): Promise<void> {
    this.redis = await startPrivateRedis({ port: this.redisPort });
  }

  async flushRedis(): Promise<void> {
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  /** A Redis client of the test's own (fails fast while Redis is away). */
  async redisKeys(pattern: string): Promise<string[]> {
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    try {
      return await client.keys(pattern);
    } finally {
      client.disconnect();
    }
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  tasks(ids: string[]): Promise<TaskRow[]> {
    return this.query<TaskRow>('SELECT id, type, status, attempts_made, attempt_base, max_attempts FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
  }

  attempts(ids: string[]): Promise<AttemptRow[]> {
    return this.query<AttemptRow>('SELECT task_id, number, worker_id, outcome, error FROM task_attempts WHERE task_id = ANY($1::uuid[]) ORDER BY task_id, number', [ids]);
  }

  /**
   * Waits until every one of `ids` is completed, dead or cancelled; returns how long that took.
   * Past `timeoutMs`, fails with what every process printed.
   */
  async waitTerminal(ids: string[], timeoutMs: number): Promise<number> {
    const started = Date.now();
    await waitFor(
      async () => {
        const rows = await this.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND status IN ('completed','dead','cancelled')`, [ids]);
        return rows[0]?.n === ids.length;
      },
      { timeoutMs, intervalMs: 250, description: `${ids.length} tasks finished` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.output()}`);
    });
    return Date.now() - started;
  }

  async request(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<SubmitAnswer> {
    const started = Date.now();
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: parsed, ms: Date.now() - started };
  }

  async submit(task: Record<string, unknown>): Promise<string> {
    const answer = await this.request('POST', '/submit-task', task);
    if (answer.status !== 202 && answer.status !== 200) throw new Error(`submit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return String(answer.body['id']);
  }

  async submitBulk(tasks: Array<Record<string, unknown>>): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < tasks.length; start += 1_000) {
      const answer = await this.request('POST', '/tasks/bulk', { tasks: tasks.slice(start, start + 1_000) });
      if (answer.status !== 202 && answer.status !== 200) throw new Error(`bulk answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      ids.push(...(answer.body['tasks'] as Array<{ id: string }>).map((task) => task.id));
    }
    return ids;
  }

  /** Everything every process printed, for a failing test's message. */
  output(): string {
    const all: Array<[string, AppProcess | undefined]> = [['api', this.api], ['monitor', this.monitor], ...[...this.workers].map(([id, w]): [string, AppProcess] => [id, w])];
    return all.map(([name, app]) => `--- ${name}\n${app?.output().slice(-20_000) ?? ''}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([this.api, this.monitor, ...this.workers.values()].map((app) => app?.stop(5_000)));
    await this.redis?.stop();
    await this.postgres?.destroy();
  }
}

/**
 * A stack for the tests of one file: started before them, stopped after. `prepare` runs once
 * the stack is up (extra workers, say); `cleanup` after it stopped.
 */
export function useFaultStack(
  name: string,
  options: Parameters<typeof FaultStack.start>[1] & { prepare?: (stack: FaultStack) => Promise<unknown>; cleanup?: () => Promise<unknown> } = {},
): () => FaultStack {
  let stack: FaultStack | undefined;
  beforeAll(async () => {
    stack = await FaultStack.start(name, options);
    await options.prepare?.(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await options.cleanup?.();
  });
  return () => {
    if (!stack) throw new Error(`the ${name} stack did not start`);
    return stack;
  };
}

/** Prints a scenario's figures and keeps them in test-output/faults/<scenario>.json. */
export function reportFigures(scenario: string, figures: Record<string, unknown>): void {
  const dir = join(WORKSPACE_ROOT, 'test-output/faults');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`\n[${scenario}] ${Object.entries(figures).map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`).join(' ')}\n`);
}

/** Tasks whose attempts record more than one completion: a second terminal state. */
export function duplicateCompletions(attempts: AttemptRow[]): string[] {
  const completions = new Map<string, number>();
  for (const attempt of attempts) if (attempt.outcome === 'completed') completions.set(attempt.task_id, (completions.get(attempt.task_id) ?? 0) + 1);
  return [...completions].filter(([, count]) => count > 1).map(([id]) => id);
}
