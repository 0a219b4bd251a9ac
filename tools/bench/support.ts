/**
 * Small helpers for the benchmark scripts: configuration, child processes, bounded waits,
 * PostgreSQL and Redis housekeeping, CPU accounting. libs/testing is not part of the build,
 * so the few pieces needed here are written again, deliberately small.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';

/** Repository root: this file runs from dist/tools/bench/. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export interface BenchConfig {
  jobs: number;
  durationS: number;
  connections: number;
  warmupS: number;
  /** Upper bound of every single wait (a phase, a start-up, a drain). */
  timeoutS: number;
  /** Waits up to this long at start for the machine to be idle (others' tests running); 0 skips. */
  quietWaitS: number;
  redisUrl: string;
  /** Any database of the server; used to create and drop the bench database. */
  postgresUrl: string;
}

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function readConfig(): BenchConfig {
  return {
    jobs: intFromEnv('BENCH_JOBS', 20_000, 1, 10_000_000),
    durationS: intFromEnv('BENCH_DURATION_S', 10, 1, 3_600),
    connections: intFromEnv('BENCH_CONNECTIONS', 50, 1, 10_000),
    warmupS: intFromEnv('BENCH_WARMUP_S', 2, 0, 600),
    timeoutS: intFromEnv('BENCH_TIMEOUT_S', 180, 10, 3_600),
    quietWaitS: intFromEnv('BENCH_QUIET_WAIT_S', 60, 0, 3_600),
    redisUrl: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    postgresUrl: process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}

export const randomSuffix = (): string => randomBytes(4).toString('hex');

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Polls `probe` until it returns a value other than undefined/false; throws at the deadline,
 * or at once when `abort` returns a reason (a process we wait on has exited).
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs: number; intervalMs?: number; description: string; abort?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = options.abort?.();
    if (aborted !== undefined) throw new Error(`gave up waiting for ${options.description}: ${aborted}`);
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${reason}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}

/** A free TCP port on 127.0.0.1 (closed again before it is handed out). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((done) => server.close(() => done()));
  if (!port) throw new Error('could not find a free port');
  return port;
}

export interface ChildApp {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last ~64 KB the process printed (stdout and stderr). */
  output(): string;
  exited(): Promise<number | null>;
  /** A description of how it exited, or undefined while it runs. */
  hasExited(): string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended: `code 0`, `signal SIGTERM`… */
  stop(graceMs?: number): Promise<string>;
}

const OUTPUT_LIMIT = 64 * 1024;

/** Starts a built script the way package.json starts the apps: `node -r ./runtime-paths.cjs <script>`. */
export function startNode(name: string, script: string, env: Record<string, string>): ChildApp {
  const child = spawn(process.execPath, ['-r', join(REPO_ROOT, 'runtime-paths.cjs'), join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer): void => {
    log += chunk.toString();
    if (log.length > OUTPUT_LIMIT) log = log.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const ending = (): string => (child.signalCode !== null ? `signal ${child.signalCode}` : `code ${child.exitCode}`);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${script})`);
  const pid = child.pid;
  return {
    name,
    child,
    pid,
    output: () => log,
    exited: () => exit,
    hasExited: () =>
      child.exitCode !== null || child.signalCode !== null ? `${name} exited (code ${child.exitCode}, signal ${child.signalCode})` : undefined,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return `already exited (${ending()})`;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        await exit;
        return ending();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until `url` answers 200; fails at once, with the process output, if the process exits first. */
export async function waitForHttp(url: string, app: ChildApp, timeoutMs: number): Promise<void> {
  try {
    await waitFor(async () => (await fetch(url).catch(() => undefined))?.status === 200, {
      timeoutMs,
      intervalMs: 100,
      description: `${url} to answer 200`,
      abort: () => app.hasExited(),
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- ${app.name} output ---\n${app.output()}`);
  }
}

/** Same URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop database "${name}"`);
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Deletes every Redis key under a BullMQ prefix; returns how many were deleted. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`refusing to delete keys of prefix "${prefix}"`);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  redis.on('error', () => undefined);
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

// ---------------------------------------------------------------------------------------
// CPU accounting from /proc: where the processing time goes (Linux only; zero elsewhere).

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** user+system CPU seconds of one process, or 0 if it is gone or unreadable. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return 0;
  }
}

/** Pids whose command name is `comm` (e.g. every postgres process of the server). */
function pidsNamed(comm: string): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((entry) => {
        try {
          return readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm;
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

export interface CpuGroups {
  /** label → pids, or a function giving the pids at snapshot time (for process families that fork). */
  [label: string]: number[] | (() => number[]);
}

export const OTHER = 'other processes';

export type CpuSnapshot = Map<string, Map<number, number>>;

export function postgresPids(): number[] {
  return pidsNamed('postgres');
}

/** Label under which snapshots carry the whole machine's busy CPU seconds (/proc/stat). */
export const SYSTEM = 'whole machine';

function systemTimes(): { busy: number; total: number } {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal …
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = first.trim().split(/\s+/).slice(1).map(Number);
    const busy = (user + nice + system + irq + softirq + steal) / ticksPerSecond();
    return { busy, total: busy + (idle + iowait) / ticksPerSecond() };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function systemBusySeconds(): number {
  return systemTimes().busy;
}

/** Share of the whole machine's CPU that was busy over `ms`. */
export async function machineBusyShare(ms: number): Promise<number> {
  const before = systemTimes();
  await sleep(ms);
  const after = systemTimes();
  return after.total > before.total ? (after.busy - before.busy) / (after.total - before.total) : 0;
}

export function cpuSnapshot(groups: CpuGroups): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map([[SYSTEM, new Map([[0, systemBusySeconds()]])]]);
  for (const [label, pids] of Object.entries(groups)) {
    const list = typeof pids === 'function' ? pids() : pids;
    snapshot.set(label, new Map(list.map((pid) => [pid, pid === process.pid ? selfCpuSeconds() : cpuSecondsOf(pid)])));
  }
  return snapshot;
}

function selfCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * CPU seconds spent per group between two snapshots. A process absent from the first
 * snapshot (a new PostgreSQL backend) counts from zero; one that exited before the second
 * is lost, so take the second snapshot before stopping anything.
 */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [label, pids] of after) {
    let total = 0;
    for (const [pid, seconds] of pids) total += seconds - (before.get(label)?.get(pid) ?? 0);
    result[label] = total;
  }
  // Whatever the machine spent outside the processes we watch (other jobs, kernel threads).
  const watched = Object.entries(result).reduce((sum, [label, seconds]) => (label === SYSTEM ? sum : sum + seconds), 0);
  result[OTHER] = Math.max(0, (result[SYSTEM] ?? 0) - watched);
  return result;
}

// ---------------------------------------------------------------------------------------
// Formatting

export function fmtInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function fmt(value: number, digits = 1): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A Markdown table with padded columns, so it reads well in a terminal too. */
export function markdownTable(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length), 3));
  const pad = (cell: string, index: number): string => (rightAligned[index] ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0));
  const line = (cells: string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((width, index) => (rightAligned[index] ? `${'-'.repeat(width + 1)}:` : `${'-'.repeat(width + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Terminal colour codes out (Nest's logger colours its lines). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
