/**
 * `npm start`: the api, worker and monitor on this machine, for development.
 *
 * In development (NODE_ENV unset or `development`), a Redis or PostgreSQL that is left at its
 * default URL and does not answer is started here, embedded, with its data under `.taskq/`
 * (TASKQ_RESET=1 wipes it). An explicit REDIS_URL / DATABASE_URL, or NODE_ENV=production,
 * never starts anything: the apps then report a service that does not answer, as before.
 *
 * TASKQ_DEFAULT_REDIS_URL / TASKQ_DEFAULT_DATABASE_URL replace the built-in defaults (from
 * @taskq/config) for this runner only; tests use them to point "the defaults" at closed ports.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import concurrently from 'concurrently';
import { CommonConfig } from '@taskq/config';
import { answers } from './services';

const root = resolve(__dirname, '../../..');
/** TASKQ_STATE_DIR moves it (tests use a temporary directory, to leave a developer's data alone). */
const stateDir = resolve(root, process.env.TASKQ_STATE_DIR ?? '.taskq');
const env = process.env;

function say(line: string): void {
  process.stdout.write(`[dev-start] ${line}\n`);
}

interface Service {
  url: string;
  embedded: boolean;
}

/** Asks the services host to stop PostgreSQL and Redis, and waits until it has. */
function stopHost(host: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (host.exitCode !== null || host.signalCode !== null) return done();
    host.once('exit', () => done());
    if (host.connected) host.send('stop');
    else host.kill('SIGTERM');
  });
}

/** Mask the password of a URL for printing. */
function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** A development admin key kept under .taskq/, so it stays the same from one start to the next. */
function developmentKey(): string {
  const file = join(stateDir, 'dev-api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `taskq_dev_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

async function waitForApi(url: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/health`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return false;
}

async function main(): Promise<number> {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const mayEmbed = nodeEnv === 'development';
  const defaults = new CommonConfig();
  const defaultRedis = env.TASKQ_DEFAULT_REDIS_URL ?? defaults.redisUrl;
  const defaultDatabase = env.TASKQ_DEFAULT_DATABASE_URL ?? defaults.databaseUrl;

  if (mayEmbed && env.TASKQ_RESET === '1' && existsSync(stateDir)) {
    rmSync(stateDir, { recursive: true, force: true });
    say(`TASKQ_RESET=1: removed ${stateDir}`);
  }

  const wantRedis = !env.REDIS_URL && mayEmbed && !(await answers(defaultRedis, 6379));
  const wantPostgres = !env.DATABASE_URL && mayEmbed && !(await answers(defaultDatabase, 5432));
  if (wantRedis) say(`nothing answers at ${defaultRedis}: starting an embedded Redis (data in ${stateDir}/redis)`);
  if (wantPostgres) say(`nothing answers at ${shown(defaultDatabase)}: starting an embedded PostgreSQL 15 (data in ${stateDir}/postgres)`);

  // The embedded services live in a process group of their own (see services-host.ts).
  let host: ChildProcess | undefined;
  let started: { redisUrl?: string; databaseUrl?: string } = {};
  if (wantRedis || wantPostgres) {
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    host = fork(join(__dirname, 'services-host.js'), [], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['-r', join(root, 'runtime-paths.cjs')] });
    const reply = await new Promise<{ redisUrl?: string; databaseUrl?: string; error?: string }>((done) => {
      host?.once('message', (message) => done(message as { redisUrl?: string; databaseUrl?: string; error?: string }));
      host?.once('exit', (code) => done({ error: `the embedded services exited (${code})` }));
      host?.send({
        redis: wantRedis ? join(stateDir, 'redis') : undefined,
        postgres: wantPostgres ? { dir: join(stateDir, 'postgres'), database: new URL(defaultDatabase).pathname.slice(1) || 'taskq' } : undefined,
      });
    });
    if (reply.error) {
      say(reply.error);
      await stopHost(host);
      return 1;
    }
    started = reply;
  }
  const redis: Service = started.redisUrl ? { url: started.redisUrl, embedded: true } : { url: env.REDIS_URL ?? defaultRedis, embedded: false };
  const database: Service = started.databaseUrl ? { url: started.databaseUrl, embedded: true } : { url: env.DATABASE_URL ?? defaultDatabase, embedded: false };

  const apiKey = env.API_KEY ?? env.API_KEY_FILE ?? (mayEmbed ? (mkdirSync(stateDir, { recursive: true }), developmentKey()) : undefined);
  const appEnv: NodeJS.ProcessEnv = {
    ...env,
    LOG_FORMAT: env.LOG_FORMAT ?? 'pretty',
    REDIS_URL: redis.url,
    DATABASE_URL: database.url,
    ...(apiKey && !env.API_KEY && !env.API_KEY_FILE ? { API_KEY: apiKey } : {}),
  };
  const port = env.PORT ?? '3000';
  const apiUrl = `http://127.0.0.1:${port}`;

  const { result, commands } = concurrently(
    ['api', 'worker', 'monitor'].map((name) => ({ name, command: `exec node -r ./runtime-paths.cjs dist/apps/${name}/src/main.js`, env: appEnv, cwd: root })),
    { killOthersOn: ['failure', 'success'], prefixColors: ['blue', 'magenta', 'green'], cwd: root, handleInput: false },
  );

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Only this runner decides what a signal does (the embedded services run in their own
    // process group, see services-host.ts): stop the apps, then the services.
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      say(`${signal}: stopping the apps, then the embedded services`);
      for (const command of commands) command.kill(signal);
    });
  }

  void waitForApi(apiUrl, 120_000).then((up) => {
    if (!up || stopping) return;
    const describe = (what: string, service: Service) => `${what.padEnd(11)}${shown(service.url)} (${service.embedded ? 'embedded, data in .taskq/' : 'external'})`;
    say(
      [
        'taskq is running',
        `  API        ${apiUrl}  (OpenAPI docs: ${apiUrl}/docs)`,
        `  Console    ${apiUrl}/console  (sign in with the dev key below)`,
        `  Board      ${apiUrl}/admin/queues  (needs BOARD_ADMIN_USER/BOARD_ADMIN_PASSWORD)`,
        `  Dev key    ${env.API_KEY_FILE ? `from ${env.API_KEY_FILE}` : env.API_KEY ? '(your API_KEY)' : apiKey}`,
        `  ${describe('Redis', redis)}`,
        `  ${describe('PostgreSQL', database)}`,
        '  Ctrl-C stops everything.',
      ].join('\n'),
    );
  });

  let code = 0;
  try {
    await result;
  } catch {
    code = stopping ? 0 : 1;
  }
  if (host) {
    await stopHost(host);
    say('embedded services stopped');
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
