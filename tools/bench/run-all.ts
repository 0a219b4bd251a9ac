/**
 * `npm run bench`: taskq against plain baselines, on the local Redis and PostgreSQL, printed as
 * Markdown tables. See docs/benchmarks.md. `BENCH_ONLY=worker,api,bulk,sustain,memory` picks
 * sections; `npm run bench -- --profile` (or BENCH_PROFILE=1) adds CPU profiles.
 *
 * Order: API, worker, bulk intake, sustained end to end, Redis memory. The bench creates and
 * migrates a fresh database; each section starts from empty tables and fresh Redis prefixes.
 * Everything is removed at the end, on failure and on Ctrl-C too.
 */
import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { benchApi } from './api-throughput';
import { benchBulk } from './bulk-intake';
import { createContext, log, type BenchContext } from './context';
import { benchRedisMemory } from './memory';
import { report, type Environment, type Results } from './report';
import { benchSustained } from './sustained';
import { deleteRedisPrefix, enableChildProfiles, fmt, machineBusyShare, randomSuffix, readConfig, withClient, type BenchConfig } from './support';
import { benchRawWorker, benchTaskqWorker } from './worker-throughput';
import { benchWorkerScaling } from './worker-scaling';

async function describeEnvironment(config: BenchConfig): Promise<Environment> {
  const postgres = await withClient(config.postgresUrl, async (client) => {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? '?';
  });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  redis.on('error', () => undefined);
  await redis.connect();
  let info = '';
  try {
    info = await redis.info('server');
  } finally {
    redis.disconnect();
  }
  const field = (name: string): string => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '?';
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    node: process.version,
    postgres,
    redis: field('redis_version'),
    redisPid: Number(field('process_id')),
    loadAverage: loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
  };
}

/** Other people's test runs on the same two cores would distort every figure: wait for quiet. */
async function waitForQuiet(config: BenchConfig): Promise<void> {
  if (config.quietWaitS <= 0) return;
  const quietBy = Date.now() + config.quietWaitS * 1_000;
  for (;;) {
    const busy = await machineBusyShare(1_000);
    if (busy < 0.2) return;
    if (Date.now() >= quietBy) {
      log(`the machine is still ${Math.round(busy * 100)}% busy after ${config.quietWaitS} s: measuring anyway (see the "other processes" column)`);
      return;
    }
    log(`the machine is ${Math.round(busy * 100)}% busy with other work: waiting for it to calm down (BENCH_QUIET_WAIT_S=${config.quietWaitS})`);
  }
}

async function runSections(ctx: BenchContext, results: Results): Promise<void> {
  const { config } = ctx;
  const sections = config.sections;
  let first = true;
  /** Each section starts from empty tables. */
  const begin = async (): Promise<void> => {
    if (!first) await ctx.resetTables();
    first = false;
  };

  if (sections.has('api')) {
    await begin();
    const prefix = ctx.prefix('api');
    results.api = await benchApi(ctx, prefix);
    results.profiles.push({ label: 'taskq API (API section, autocannon)', file: results.api.apiProfile, window: results.api.apiWindow });
    results.profiles.push({ label: 'bare Nest app (API section)', file: results.api.bareProfile, window: results.api.bareWindow });
    await deleteRedisPrefix(config.redisUrl, prefix);
  }

  if (sections.has('worker')) {
    await begin();
    const rawPrefix = ctx.prefix('raw');
    const taskqPrefix = ctx.prefix('taskq');
    log(`raw BullMQ worker: ${config.jobs} jobs`);
    const raw = await benchRawWorker(ctx, rawPrefix);
    await deleteRedisPrefix(config.redisUrl, rawPrefix);
    log(`  ${fmt(raw.jobsPerSecond)} jobs/s`);
    log(`taskq worker: pre-filling ${config.jobs} noop tasks, then starting the worker process`);
    const taskq = await benchTaskqWorker(ctx, taskqPrefix);
    await deleteRedisPrefix(config.redisUrl, taskqPrefix);
    log(`  ${fmt(taskq.jobsPerSecond)} jobs/s`);
    results.worker = { raw, taskq };
    if (raw.profile) results.profiles.push({ label: 'bench process: raw BullMQ worker (worker section)', file: raw.profile.file });
    results.profiles.push({ label: 'taskq worker (worker section)', file: taskq.profileFile, window: taskq.window });
  }

  if (sections.has('bulk')) {
    await begin();
    results.bulk = await benchBulk(ctx, { api: ctx.prefix('bulk'), raw: ctx.prefix('bulk-raw') });
    results.profiles.push({ label: 'taskq API (bulk section)', file: results.bulk.apiProfile, window: results.bulk.window });
    if (results.bulk.raw.profile) results.profiles.push({ label: 'bench process: raw addBulk (bulk section)', file: results.bulk.raw.profile.file });
  }

  if (sections.has('sustain')) {
    await begin();
    const prefix = ctx.prefix('sustain');
    results.sustain = await benchSustained(ctx, prefix);
    results.profiles.push({ label: 'taskq API (sustained section)', file: results.sustain.apiProfile, window: results.sustain.window });
    results.profiles.push({ label: 'taskq worker (sustained section)', file: results.sustain.workerProfile, window: results.sustain.window });
    await deleteRedisPrefix(config.redisUrl, prefix);
  }

  if (sections.has('scale')) {
    await begin();
    results.scale = await benchWorkerScaling(ctx);
  }

  if (sections.has('memory')) {
    results.memory = await benchRedisMemory(ctx, { taskq: ctx.prefix('memory-taskq'), plain: ctx.prefix('memory-plain'), bare: ctx.prefix('memory-defaults') });
  }
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  let config: BenchConfig;
  try {
    config = readConfig();
  } catch (error) {
    log((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const run = randomSuffix();
  let cleanup: (() => Promise<void>) | undefined;
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: cleaning up`);
      void (cleanup?.() ?? Promise.resolve()).finally(() => {
        log('cleaned up after the signal');
        process.exit(130);
      });
    });
  }

  try {
    await waitForQuiet(config);
    const env = await describeEnvironment(config);
    const created = createContext(config, run, env.redisPid);
    cleanup = created.cleanup;
    const ctx = created.context;
    await ctx.createDatabase();
    if (ctx.profileDir) {
      enableChildProfiles(ctx.profileDir);
      log(`profiling: every child app runs with --cpu-prof; profiles in ${ctx.profileDir}`);
    }
    log(`run ${run}: database ${ctx.databaseName}, sections ${[...config.sections].join(', ')}`);
    const results: Results = { profiles: [], profileDir: ctx.profileDir };
    await runSections(ctx, results);
    if (!interrupted) process.stdout.write(report(config, env, run, results));
    log(`finished in ${fmt((Date.now() - startedAt) / 1_000, 0)} s`);
  } catch (error) {
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    if (cleanup) {
      await cleanup();
      log('cleaned up: child processes stopped, Redis keys deleted, database dropped');
    }
    // Nothing should be left running; should a library keep a handle open, do not hang.
    setTimeout(() => {
      log('a handle kept the process alive after clean-up: exiting');
      process.exit();
    }, 3_000).unref();
  }
}

void main();
