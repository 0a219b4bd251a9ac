import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { ApiConfig, loadConfig } from '@taskq/config';
import { TEST_API_KEY, TEST_REDIS_URL, freePort, queryDatabase, startAppProcess, waitFor, waitForHttp } from '@taskq/testing';
import { createApiApp } from '../../api-app';

/** Quiet by default; `TEST_LOG_LEVEL=warn` shows the apps' logs while debugging a test. */
const LOG_LEVEL = process.env['TEST_LOG_LEVEL'] ?? 'fatal';

/**
 * The API in-process, ready for `app.inject`; creates and migrates the database. `env` adds or
 * overrides variables; `beforeInit` runs before the routes are registered (e.g. to add an
 * `onRoute` hook).
 */
export async function startApi(
  databaseUrl: string,
  prefix: string,
  env: Record<string, string> = {},
  beforeInit?: (app: NestFastifyApplication) => void,
): Promise<NestFastifyApplication> {
  const app = await createApiApp(loadConfig(ApiConfig, { DATABASE_URL: databaseUrl, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL, API_KEY: TEST_API_KEY, ...env }));
  beforeInit?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return authorizeInjections(app);
}

/**
 * Makes `app.inject` send the test API key (the app must accept it: API_KEY=TEST_API_KEY),
 * unless a request sets `authorization` itself — to undefined for none at all.
 */
export function authorizeInjections(app: NestFastifyApplication): NestFastifyApplication {
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>;
  const authorized = (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const given = (options.headers ?? {}) as Record<string, string | string[] | undefined>;
    const headers = Object.fromEntries(Object.entries('authorization' in given ? given : { authorization: `Bearer ${TEST_API_KEY}`, ...given }).filter(([, value]) => value !== undefined));
    return inject({ ...options, headers: headers as InjectOptions['headers'] });
  };
  // The Nest application is itself a proxy that refuses new properties: wrap it instead.
  return new Proxy(app, { get: (target, property) => (property === 'inject' ? authorized : Reflect.get(target, property)) });
}

/** A worker process started from the build (dist/), like `npm start` does. */
export interface WorkerProcess {
  /** The worker's listener: `${base}/health`, `${base}/metrics`. */
  listenerUrl: string;
  close(): Promise<void>;
}

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..', '..');

/**
 * The real worker as a separate process, on the same database and prefix as the API (start
 * the API first: it migrates). api and worker never import each other, so the API's tests run
 * the built worker (`npm test` builds first). Resolves once its health listener answers.
 */
export async function startWorker(databaseUrl: string, prefix: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const script = join(WORKSPACE_ROOT, 'dist/apps/worker/src/main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first (npm test does)`);
  const port = await freePort();
  const worker = startAppProcess(
    ['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), script],
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: String(port),
      LOG_LEVEL,
      SHUTDOWN_TIMEOUT_MS: '2000',
      ...env,
    },
    WORKSPACE_ROOT,
  );
  await waitForHttp(`http://127.0.0.1:${port}/health`, worker);
  return {
    listenerUrl: `http://127.0.0.1:${port}`,
    async close() {
      const code = await worker.stop();
      if (code !== 0) throw new Error(`worker exited with ${code}:\n${worker.output()}`);
    },
  };
}

/** A JSON request to the in-process API. `payload` undefined sends no body. */
export function send(
  app: NestFastifyApplication,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });
}

export interface TaskRow {
  id: string;
  type: string;
  status: string;
  payload: unknown;
  priority: number | null;
  max_attempts: number;
  attempts_made: number;
  attempt_base: number;
  backoff: unknown;
  timeout_ms: number;
  last_error: string | null;
  run_at: Date | null;
  idempotency_key: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface AttemptRow {
  number: number;
  outcome: string;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export async function taskRow(databaseUrl: string, id: string): Promise<TaskRow | undefined> {
  return (await queryDatabase<TaskRow>(databaseUrl, 'SELECT * FROM tasks WHERE id = $1', [id]))[0];
}

export function attemptRows(databaseUrl: string, id: string): Promise<AttemptRow[]> {
  return queryDatabase<AttemptRow>(databaseUrl, 'SELECT number, outcome, error, started_at, finished_at FROM task_attempts WHERE task_id = $1 ORDER BY number', [id]);
}

/** How long an attempt ran (Infinity while it runs). */
export function attemptDurationMs(attempt: AttemptRow | undefined): number {
  if (!attempt?.finished_at) return Infinity;
  return attempt.finished_at.getTime() - attempt.started_at.getTime();
}

export async function countTasks(databaseUrl: string): Promise<number> {
  return (await queryDatabase<{ n: number }>(databaseUrl, 'SELECT count(*)::int AS n FROM tasks'))[0]?.n ?? -1;
}

/** Polls PostgreSQL until the task has `status`; returns its row. */
export function waitForStatus(databaseUrl: string, id: string, status: string, timeoutMs = 10_000): Promise<TaskRow> {
  return waitFor(
    async () => {
      const row = await taskRow(databaseUrl, id);
      return row?.status === status && row;
    },
    { timeoutMs, intervalMs: 20, description: `task ${id} is ${status}` },
  );
}

export const PROBLEM_JSON = /^application\/problem\+json/;
