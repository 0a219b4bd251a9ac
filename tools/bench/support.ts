/**
 * Small helpers for the benchmark scripts: configuration, child processes, bounded waits,
 * PostgreSQL and Redis housekeeping, CPU accounting. libs/testing is not part of the build,
 * so the few pieces needed here are written again, deliberately small.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';

/** Repository root: this file runs from dist/tools/bench/. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The sections `BENCH_ONLY` can pick, in the order they run. */
export const SECTIONS = ['api', 'worker', 'bulk', 'sustain', 'memory', 'scale'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchConfig {
  /** Sections to run (BENCH_ONLY; default all). */
  sections: ReadonlySet<Section>;
  jobs: number;
  durationS: number;
  connections: number;
  warmupS: number;
  /** Upper bound of every single wait (a phase, a start-up, a drain). */
  timeoutS: number;
  /** Waits up to this long at start for the machine to be idle (others' tests running); 0 skips. */
  quietWaitS: number;
  /** Hold a live `GET /events` stream open on the API while its section runs (BENCH_EVENTS_STREAM=1). */
  eventsStream: boolean;
  redisUrl: string;
  /** Any database of the server; used to create and drop the bench database. */
  postgresUrl: string;
  /** Bulk intake: tasks measured (rounded up to whole requests), tasks per request. */
  bulkTasks: number;
  bulkSize: number;
  /** Sustained end to end: load time of the whole section, length of one rate step, first rate. */
  sustainS: number;
  sustainStepS: number;
  sustainStartRate: number;
  /** Most connections (and 4× as many requests in flight) the paced client of the sustained section uses. */
  sustainConnections: number;
  /** Jobs queued for the Redis-bytes-per-job measure. */
  memoryJobs: number;
  /** Worker scaling: noop tasks per run, sleep tasks per run and each one's sleep (ms). */
  scaleNoopTasks: number;
  scaleSleepTasks: number;
  scaleSleepMs: number;
  /** `--profile` or BENCH_PROFILE=1: every child app runs with --cpu-prof. */
  profile: boolean;
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

function sectionsFromEnv(): Set<Section> {
  const raw = process.env['BENCH_ONLY']?.trim();
  if (!raw) return new Set(SECTIONS);
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) throw new Error(`BENCH_ONLY takes a comma-separated list of ${SECTIONS.join(', ')} (got "${raw}")`);
  return new Set(names as Section[]);
}

function flagFromEnv(name: string): boolean {
  const raw = (process.env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new Error(`${name} must be 1 or 0 (got "${process.env[name]}")`);
}

export function readConfig(argv: string[] = process.argv.slice(2)): BenchConfig {
  const unknownArgs = argv.filter((arg) => arg !== '--profile');
  if (unknownArgs.length > 0) throw new Error(`unknown argument(s) ${unknownArgs.join(' ')}; the only one is --profile (everything else is set by BENCH_* variables)`);
  const sustainS = intFromEnv('BENCH_SUSTAIN_S', 60, 10, 3_600);
  return {
    sections: sectionsFromEnv(),
    jobs: intFromEnv('BENCH_JOBS', 20_000, 1, 10_000_000),
    durationS: intFromEnv('BENCH_DURATION_S', 10, 1, 3_600),
    connections: intFromEnv('BENCH_CONNECTIONS', 50, 1, 10_000),
    warmupS: intFromEnv('BENCH_WARMUP_S', 2, 0, 600),
    timeoutS: intFromEnv('BENCH_TIMEOUT_S', 180, 10, 3_600),
    quietWaitS: intFromEnv('BENCH_QUIET_WAIT_S', 60, 0, 3_600),
    redisUrl: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    postgresUrl: process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    bulkTasks: intFromEnv('BENCH_BULK_TASKS', 50_000, 1, 10_000_000),
    bulkSize: intFromEnv('BENCH_BULK_SIZE', 1_000, 1, 1_000),
    sustainS,
    sustainStepS: intFromEnv('BENCH_SUSTAIN_STEP_S', 4, 2, Math.max(2, Math.floor(sustainS / 3))),
    sustainStartRate: intFromEnv('BENCH_SUSTAIN_START_RATE', 500, 10, 1_000_000),
    sustainConnections: intFromEnv('BENCH_SUSTAIN_CONNECTIONS', 64, 1, 10_000),
    memoryJobs: intFromEnv('BENCH_MEMORY_JOBS', 20_000, 100, 10_000_000),
    scaleNoopTasks: intFromEnv('BENCH_SCALE_NOOP_TASKS', 12_000, 100, 10_000_000),
    scaleSleepTasks: intFromEnv('BENCH_SCALE_SLEEP_TASKS', 2_400, 100, 10_000_000),
    scaleSleepMs: intFromEnv('BENCH_SCALE_SLEEP_MS', 100, 1, 60_000),
    profile: argv.includes('--profile') || flagFromEnv('BENCH_PROFILE'),
    eventsStream: flagFromEnv('BENCH_EVENTS_STREAM'),
  };
}

export const randomSuffix = (): string => randomBytes(4).toString('hex');

/**
 * Microseconds on the monotonic clock. V8 stamps .cpuprofile samples on the same clock
 * (CLOCK_MONOTONIC on Linux), so a child's profile can be cut to a window the bench measured.
 */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1_000n);

/** A measured window on the {@link monotonicUs} clock. */
export interface Window {
  fromUs: number;
  toUs: number;
}

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
  /** Resident memory in KB: the highest VmRSS sampled every 100 ms, and the kernel's own peak (VmHWM). */
  memory(): ProcessMemory;
  /** The .cpuprofile it writes when it exits, when profiling is on. */
  readonly profileFile: string | undefined;
}

export interface ProcessMemory {
  peakSampledKb: number;
  hwmKb: number;
}

const OUTPUT_LIMIT = 64 * 1024;
const RSS_SAMPLE_MS = 100;

let profileDir: string | undefined;
const profileNames = new Set<string>();

/** From now on every child started by {@link startNode} runs with `--cpu-prof`, writing into `dir`. */
export function enableChildProfiles(dir: string): void {
  mkdirSync(dir, { recursive: true });
  profileDir = dir;
}

/** VmRSS and VmHWM of a process in KB, or undefined once it is gone. */
export function readProcessMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * Starts a built script the way package.json starts the apps: `node -r ./runtime-paths.cjs <script>`.
 * `profileName` names its .cpuprofile when profiling is on (see {@link enableChildProfiles}).
 */
export function startNode(name: string, script: string, env: Record<string, string>, profileName?: string): ChildApp {
  let profileFile: string | undefined;
  const profileArgs: string[] = [];
  if (profileDir) {
    const base = (profileName ?? name).replace(/[^A-Za-z0-9_.-]+/g, '-');
    let file = `${base}.cpuprofile`;
    for (let n = 2; profileNames.has(file); n++) file = `${base}-${n}.cpuprofile`;
    profileNames.add(file);
    profileFile = join(profileDir, file);
    profileArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${file}`);
  }
  const child = spawn(process.execPath, [...profileArgs, '-r', join(REPO_ROOT, 'runtime-paths.cjs'), join(REPO_ROOT, script)], {
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
  const memory: ProcessMemory = { peakSampledKb: 0, hwmKb: 0 };
  const sampleMemory = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const now = readProcessMemory(pid);
    if (!now) return;
    memory.peakSampledKb = Math.max(memory.peakSampledKb, now.rssKb);
    memory.hwmKb = Math.max(memory.hwmKb, now.hwmKb);
  };
  const sampler = setInterval(sampleMemory, RSS_SAMPLE_MS);
  sampler.unref();
  child.once('exit', () => clearInterval(sampler));
  return {
    name,
    child,
    pid,
    profileFile,
    memory: () => ({ ...memory }),
    output: () => log,
    exited: () => exit,
    hasExited: () =>
      child.exitCode !== null || child.signalCode !== null ? `${name} exited (code ${child.exitCode}, signal ${child.signalCode})` : undefined,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return `already exited (${ending()})`;
      sampleMemory();
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

/**
 * The PostgreSQL processes whose CPU a bench window should count: the server's own
 * (postmaster, checkpointer, WAL writer…) and the backends connected to `database`.
 * Backends of other databases (someone else's tests) are left to "other processes".
 * A backend's title reads `postgres: 15/main: <user> <database> <host>(<port)> <state>`.
 */
export function postgresPidsFor(database: string): () => number[] {
  return () =>
    postgresPids().filter((pid) => {
      let title: string;
      try {
        title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return false;
      }
      const backend = /^postgres: [^:]+: \S+ (\S+) (?:\[local\]|\S+\(\d+\))/.exec(title);
      return !backend || backend[1] === database;
    });
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

/** The p-th percentile (0–100) of already sorted values, nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/** CPU seconds spent for `count` items, as µs per item; '–' when either is unknown. */
export function microsPer(cpuSeconds: number | undefined, count: number): string {
  if (cpuSeconds === undefined || !Number.isFinite(cpuSeconds) || count <= 0) return '–';
  return fmtInt((cpuSeconds * 1e6) / count);
}

export function fmtMb(kb: number): string {
  return kb > 0 ? fmt(kb / 1024, 0) : 'n/a';
}

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
