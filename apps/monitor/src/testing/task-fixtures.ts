import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TaskStatus, type BackoffPolicy } from '@taskq/contracts';
import type { TaskAdmissions } from '@taskq/persistence';
import type { TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, freePort, startAppProcess, waitForHttp, type AppProcess } from '@taskq/testing';

export interface SleepTaskOptions {
  ms: number;
  timeoutMs: number;
  maxAttempts: number;
  backoff?: BackoffPolicy;
}

/** Submits a `sleep` task as the API does: the row first, then its job. */
export async function submitSleepTask(store: TaskAdmissions, producer: TaskProducer, options: SleepTaskOptions): Promise<string> {
  const id = randomUUID();
  const backoff = options.backoff ?? { type: 'fixed', delayMs: 100, maxDelayMs: 100, jitter: 'none' };
  const payload = { ms: options.ms };
  await store.createTask({
    id, type: 'sleep', status: TaskStatus.Queued, payload, priority: null, runAt: null, maxAttempts: options.maxAttempts,
    backoff, timeoutMs: options.timeoutMs, idempotencyKey: null, requestHash: null, tenant: 'default', createdAt: new Date(),
  });
  await producer.enqueue({ data: { taskId: id, type: 'sleep' }, maxAttempts: options.maxAttempts, priority: null, delayMs: 0 });
  return id;
}

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

/** A built app (`worker` or `monitor`) as a real process; resolves once its health listener answers. */
async function startBuiltApp(app: 'worker' | 'monitor', env: Record<string, string>): Promise<AppProcess> {
  const script = join(WORKSPACE_ROOT, `dist/apps/${app}/src/main.js`);
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first (npm test does)`);
  const port = await freePort();
  const child = startAppProcess(
    ['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), script],
    { REDIS_URL: TEST_REDIS_URL, METRICS_PORT: String(port), LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'fatal', SHUTDOWN_TIMEOUT_MS: '2000', ...env },
    WORKSPACE_ROOT,
  );
  await waitForHttp(`http://127.0.0.1:${port}/health`, child);
  return child;
}

/**
 * The real worker, started from the build (the monitor may not import it). Start it after
 * the monitor, which migrates the database.
 */
export function startWorkerProcess(databaseUrl: string, prefix: string): Promise<AppProcess> {
  return startBuiltApp('worker', { DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix, WORKER_QUEUES: 'sleep' });
}

/** The monitor from the build, as a process of its own: a test can kill it (SIGKILL: no shutdown hook runs). */
export function startMonitorProcess(env: Record<string, string>): Promise<AppProcess> {
  return startBuiltApp('monitor', env);
}
