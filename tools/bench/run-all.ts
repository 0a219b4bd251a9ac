/**
 * `npm run bench`: worker and API throughput of taskq against plain baselines, on the local
 * Redis and PostgreSQL, printed as Markdown tables. See docs/benchmarks.md.
 *
 * Order: the API benchmark runs first (its PostgreSQL commit count is then read from a
 * database nobody else has touched), the tables are emptied, then the two worker benchmarks.
 * Everything lives in a fresh database and fresh Redis prefixes, removed at the end, on
 * failure and on Ctrl-C too.
 */
import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueNameFor, createRedisConnection } from '@taskq/queue';
import { BENCH_API_KEY, loadTest, type HttpRunResult } from './api-throughput';
import {
  OTHER,
  REPO_ROOT,
  deleteRedisPrefix,
  dropDatabase,
  fmt,
  fmtInt,
  freePort,
  machineBusyShare,
  markdownTable,
  postgresPids,
  randomSuffix,
  readConfig,
  sleep,
  startNode,
  stripAnsi,
  waitFor,
  waitForHttp,
  withClient,
  withDatabase,
  type BenchConfig,
  type ChildApp,
  type CpuGroups,
} from './support';
import { benchRawWorker, benchTaskqWorker, type TaskqWorkerResult, type WorkerRunResult } from './worker-throughput';

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

interface Environment {
  cores: number;
  cpuModel: string;
  node: string;
  postgres: string;
  redis: string;
  redisPid: number;
  loadAverage: string;
}

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

interface ApiPhase {
  real: HttpRunResult;
  bare: HttpRunResult;
  warmup202: number;
  measuredRowDelta: number;
  missingIds: number;
  apiRows: number;
  apiJobsInRedis: number;
  commits: number | null;
  apiExit: string;
  bareExit: string;
  apiOutput: string;
}

async function main(): Promise<void> {
  const config = readConfig();
  const run = randomSuffix();
  const databaseName = `taskq_bench_${run}`;
  const databaseUrl = withDatabase(config.postgresUrl, databaseName);
  const prefixes = { api: `bench-api-${run}`, raw: `bench-raw-${run}`, worker: `bench-taskq-${run}` };
  const children: ChildApp[] = [];
  const waitMs = config.timeoutS * 1_000;

  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const child of children.reverse()) await child.stop(10_000).catch(() => undefined);
      for (const prefix of Object.values(prefixes)) {
        await deleteRedisPrefix(config.redisUrl, prefix).catch((error: Error) => log(`could not delete Redis keys ${prefix}:*: ${error.message}`));
      }
      await dropDatabase(config.postgresUrl, databaseName).catch((error: Error) => log(`could not drop database ${databaseName}: ${error.message}`));
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => {
        log('cleaned up after the signal');
        process.exit(130);
      });
    });
  }

  // Our own statements against the bench database, subtracted from its commit counter.
  let ownQueries = 0;
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    ownQueries++;
    return withClient(databaseUrl, async (client) => (await client.query(sql, params)).rows as T[]);
  };

  try {
    // Other people's test runs on the same two cores would distort every figure: wait for quiet.
    if (config.quietWaitS > 0) {
      const quietBy = Date.now() + config.quietWaitS * 1_000;
      for (;;) {
        const busy = await machineBusyShare(1_000);
        if (busy < 0.2) break;
        if (Date.now() >= quietBy) {
          log(`the machine is still ${Math.round(busy * 100)}% busy after ${config.quietWaitS} s: measuring anyway (see the "other processes" column)`);
          break;
        }
        log(`the machine is ${Math.round(busy * 100)}% busy with other work: waiting for it to calm down (BENCH_QUIET_WAIT_S=${config.quietWaitS})`);
      }
    }
    const env = await describeEnvironment(config);
    log(`run ${run}: database ${databaseName}, Redis prefixes ${Object.values(prefixes).join(', ')}`);
    const cpuGroups: CpuGroups = { 'bench process': [process.pid], 'redis-server': [env.redisPid], postgres: postgresPids };

    // ---- API throughput -------------------------------------------------------------------
    const apiPort = await freePort();
    const api = startNode('taskq api', 'dist/apps/api/src/main.js', {
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      REDIS_URL: config.redisUrl,
      DATABASE_URL: databaseUrl,
      QUEUE_PREFIX: prefixes.api,
      LOG_LEVEL: 'warn',
      // Every request is authenticated and counted against its key's rate limit, as in
      // production; the limit is set high enough never to trip.
      API_KEY: BENCH_API_KEY,
      RATE_LIMIT_REQUESTS: '10000000',
    });
    children.push(api);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    log('starting the taskq API (it creates and migrates the database)');
    await waitForHttp(`${apiUrl}/health/ready`, api, Math.min(waitMs, 60_000));

    const barePort = await freePort();
    const bareApp = startNode('bare nest app', 'dist/tools/bench/bare-app.js', { PORT: String(barePort), HOST: '127.0.0.1' });
    children.push(bareApp);
    const bareUrl = `http://127.0.0.1:${barePort}`;
    await waitForHttp(`${bareUrl}/health`, bareApp, Math.min(waitMs, 60_000));

    const countRows = async (): Promise<number> => Number((await query<{ n: string }>('SELECT count(*)::text AS n FROM tasks'))[0]?.n);
    /** Requests cut off when autocannon stops may still commit: wait until the row count holds still. */
    const settledRows = async (): Promise<number> => {
      let last = -1;
      let stable = 0;
      return waitFor(
        async () => {
          const now = await countRows();
          stable = now === last ? stable + 1 : 0;
          last = now;
          return stable >= 3 ? now : undefined;
        },
        { timeoutMs: Math.min(waitMs, 30_000), intervalMs: 200, description: 'the tasks row count to settle' },
      );
    };

    const load = { connections: config.connections, cpuGroups };
    let warmup202 = 0;
    if (config.warmupS > 0) {
      log(`warming up the taskq API (${config.warmupS} s)`);
      warmup202 = (await loadTest('warm-up', apiUrl, { ...load, durationS: config.warmupS, collectIds: false })).status202;
    }
    const rowsBefore = await settledRows();
    log(`POST /submit-task on the taskq API: ${config.connections} connections, ${config.durationS} s`);
    const real = await loadTest('taskq API', apiUrl, {
      ...load,
      durationS: config.durationS,
      collectIds: true,
      cpuGroups: { ...cpuGroups, 'api process': [api.pid] },
    });
    const rowsAfter = await settledRows();
    const missingIds = Number(
      (
        await query<{ n: string }>(`SELECT count(*)::text AS n FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.id)`, [
          real.acceptedIds,
        ])
      )[0]?.n,
    );
    const apiConnection = createRedisConnection(config.redisUrl, 'worker');
    const apiQueue = new Queue(queueNameFor('noop'), { connection: apiConnection, prefix: prefixes.api });
    apiQueue.on('error', () => undefined);
    let apiJobsInRedis: number;
    try {
      apiJobsInRedis = Object.values(await apiQueue.getJobCounts()).reduce((sum, count) => sum + count, 0);
    } finally {
      await apiQueue.close().catch(() => undefined);
      apiConnection.disconnect();
    }

    if (config.warmupS > 0) {
      log(`warming up the bare Nest app (${config.warmupS} s)`);
      await loadTest('warm-up', bareUrl, { ...load, durationS: config.warmupS, collectIds: false });
    }
    log(`POST /submit-task on the bare Nest app: ${config.connections} connections, ${config.durationS} s`);
    const bare = await loadTest('bare Nest/Fastify app', bareUrl, {
      ...load,
      durationS: config.durationS,
      collectIds: false,
      cpuGroups: { ...cpuGroups, 'api process': [bareApp.pid] },
    });

    const apiExit = await api.stop();
    const bareExit = await bareApp.stop();
    // The API's backends have exited, so their statistics are in pg_stat_database.
    await sleep(500);
    const commitRows = await query<{ commits: string }>(
      `SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = current_database()`,
    );
    const commits = commitRows[0] ? Number(commitRows[0].commits) - ownQueries : null;
    const apiPhase: ApiPhase = {
      real,
      bare,
      warmup202,
      measuredRowDelta: rowsAfter - rowsBefore,
      missingIds,
      apiRows: rowsAfter,
      apiJobsInRedis,
      commits,
      apiExit,
      bareExit,
      apiOutput: api.output(),
    };
    // The worker benchmarks start from empty tables and no leftover jobs.
    await query('TRUNCATE task_attempts, tasks');
    await deleteRedisPrefix(config.redisUrl, prefixes.api);

    // ---- Worker throughput ----------------------------------------------------------------
    log(`raw BullMQ worker: ${config.jobs} jobs`);
    const raw = await benchRawWorker(config, prefixes.raw, cpuGroups);
    log(`  ${fmt(raw.jobsPerSecond)} jobs/s`);
    log(`taskq worker: pre-filling ${config.jobs} noop tasks, then starting the worker process`);
    const taskq = await benchTaskqWorker(config, {
      databaseUrl,
      prefix: prefixes.worker,
      cpuGroups,
      register: (app) => children.push(app),
    });
    log(`  ${fmt(taskq.jobsPerSecond)} jobs/s`);

    process.stdout.write(report(config, env, run, raw, taskq, apiPhase));
  } catch (error) {
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
    log('cleaned up: child processes stopped, Redis keys deleted, database dropped');
    // Nothing should be left running; should a library keep a handle open, do not hang.
    setTimeout(() => {
      log('a handle kept the process alive after clean-up: exiting');
      process.exit();
    }, 3_000).unref();
  }
}

function cpuCells(cpu: Record<string, number>, labels: string[]): string[] {
  return labels.map((label) => (cpu[label] === undefined ? '–' : fmt(cpu[label] ?? 0)));
}

function report(config: BenchConfig, env: Environment, run: string, raw: WorkerRunResult, taskq: TaskqWorkerResult, api: ApiPhase): string {
  const out: string[] = [];
  out.push('');
  out.push(`## taskq benchmark (run ${run})`);
  out.push('');
  out.push(`- machine: ${env.cores} cores (${env.cpuModel}), load average at start ${env.loadAverage}`);
  out.push(`- Node ${env.node}, PostgreSQL ${env.postgres}, Redis ${env.redis}; repository ${REPO_ROOT}`);
  out.push(
    `- BENCH_JOBS=${config.jobs}, BENCH_DURATION_S=${config.durationS}, BENCH_CONNECTIONS=${config.connections}, BENCH_WARMUP_S=${config.warmupS}; noop concurrency 50`,
  );
  out.push('');

  out.push('### Summary');
  out.push('');
  out.push(
    markdownTable(
      ['measure', 'taskq', 'baseline', 'baseline is', 'taskq / baseline'],
      [
        ['worker, noop jobs/s', fmtInt(taskq.jobsPerSecond), fmtInt(raw.jobsPerSecond), 'plain BullMQ Worker, same job options', fmt(taskq.jobsPerSecond / raw.jobsPerSecond, 2)],
        ['API, POST /submit-task req/s', fmtInt(api.real.requestsPerSecondMean), fmtInt(api.bare.requestsPerSecondMean), 'bare Nest 12 + Fastify route', fmt(api.real.requestsPerSecondMean / api.bare.requestsPerSecondMean, 2)],
        ['API latency p50 / p99 ms', `${ms(api.real.latencyP50Ms)} / ${ms(api.real.latencyP99Ms)}`, `${ms(api.bare.latencyP50Ms)} / ${ms(api.bare.latencyP99Ms)}`, `${config.connections} connections`, ''],
        ['API non-2xx / errors', `${fmtInt(api.real.non2xx)} / ${fmtInt(api.real.errors)}`, `${fmtInt(api.bare.non2xx)} / ${fmtInt(api.bare.errors)}`, '', ''],
      ],
      [false, true, true, false, true],
    ),
  );
  out.push('');
  out.push(`### 1. Worker throughput: ${fmtInt(config.jobs)} noop jobs, concurrency 50, first job taken → last job done`);
  out.push('');
  out.push(
    markdownTable(
      ['worker', 'jobs', 'seconds', 'jobs/s'],
      [
        ['raw BullMQ Worker, processor returns at once', fmtInt(raw.jobs), fmt(raw.seconds, 2), fmtInt(raw.jobsPerSecond)],
        ['taskq worker (dist), noop, PostgreSQL on', fmtInt(taskq.jobs), fmt(taskq.seconds, 2), fmtInt(taskq.jobsPerSecond)],
      ],
      [false, true, true, true],
    ),
  );
  out.push('');
  out.push(`**ratio taskq/raw: ${fmt(taskq.jobsPerSecond / raw.jobsPerSecond, 2)}**`);
  out.push('');
  const perJob = (value: number | null, unit: string, digits = 2): string => (value === null ? 'n/a' : `${fmt(value / taskq.jobs, digits)} ${unit}`);
  out.push(`- taskq: ${fmtInt(taskq.attempts)} attempt rows, ${fmtInt(taskq.failed)} tasks not completed; worker start-up (spawn → first job) ${fmt(taskq.startupSeconds, 2)} s, not counted`);
  out.push(`- taskq: first attempt started_at → last tasks.finished_at in PostgreSQL ${fmt(taskq.dbWindowSeconds, 2)} s (the figure above ends when the bench's poll sees all rows completed)`);
  out.push(
    `- taskq: ≈${taskq.commits === null ? 'n/a' : fmtInt(taskq.commits)} PostgreSQL commits in the bench database (${perJob(taskq.commits, 'per job', 3)}; 2 writes per job unbatched), ` +
      `≈${taskq.walSyncs === null ? 'n/a' : fmtInt(taskq.walSyncs)} WAL fsyncs, WAL ${taskq.walBytes === null ? 'n/a' : `${fmt(taskq.walBytes / 1e6)} MB`} (${perJob(taskq.walBytes, 'bytes per job', 0)})`,
  );
  out.push(
    `- taskq: progress watched through ${fmtInt(taskq.redisPolls)} Redis counter polls (every 20 ms) and ${taskq.postgresPolls} PostgreSQL count(s) once Redis was drained (${fmt(taskq.pollAverageMs, 1)} ms each); the worker ended with ${taskq.workerExit} on SIGTERM`,
  );
  out.push(`- raw: ${fmtInt(raw.failed)} failed jobs; worker creation → first job ${fmt(raw.startupSeconds, 2)} s, not counted`);
  for (const note of [...raw.notes.map((n) => `raw: ${n}`), ...taskq.notes.map((n) => `taskq: ${n}`)]) out.push(`- ODD: ${note}`);
  const workerWarnings = taskq.workerOutput.trim();
  if (workerWarnings) out.push(`- taskq worker printed (LOG_LEVEL=warn):\n\n\`\`\`\n${lastLines(stripAnsi(workerWarnings), 15)}\n\`\`\``);
  out.push('');

  out.push(
    `### 2. API throughput: POST /submit-task {"type":"noop","payload":{}}, ${config.connections} connections, BENCH_DURATION_S=${config.durationS} (after ${config.warmupS} s warm-up)`,
  );
  out.push('');
  const httpRow = (label: string, r: HttpRunResult): string[] => [
    label,
    fmt(r.durationS, 1),
    fmtInt(r.requestsPerSecondMean),
    ms(r.latencyP50Ms),
    ms(r.latencyP99Ms),
    ms(r.latencyMaxMs),
    fmtInt(r.status202),
    fmtInt(r.non2xx),
    fmtInt(r.errors),
  ];
  out.push(
    markdownTable(
      ['server', 'ran s', 'req/s (mean)', 'p50 ms', 'p99 ms', 'max ms', '202', 'non-2xx', 'errors'],
      [httpRow('bare Nest 12 + Fastify, 202 + small JSON', api.bare), httpRow('taskq API (dist), authenticate + rate-limit + validate + insert + enqueue', api.real)],
      [false, true, true, true, true, true, true, true, true],
    ),
  );
  out.push('');
  out.push('(autocannon stops at the first per-second sample after BENCH_DURATION_S, so a run lasts up to 1 s longer; req/s is the mean of those samples; latencies have 1 ms resolution)');
  out.push('');
  out.push(`**ratio taskq/bare: ${fmt(api.real.requestsPerSecondMean / api.bare.requestsPerSecondMean, 2)}**`);
  out.push('');
  const extraRows = api.measuredRowDelta - api.real.status202;
  const rowsVerdict =
    api.missingIds > 0 || extraRows < 0
      ? 'MISMATCH: accepted tasks are missing'
      : extraRows === 0
        ? 'OK, rows = 202 responses'
        : extraRows <= api.real.unanswered
          ? `OK: every 202 has its row; the ${fmtInt(extraRows)} extra rows are requests autocannon had sent but not seen answered when it stopped (${fmtInt(api.real.unanswered)} such requests)`
          : `MISMATCH: ${fmtInt(extraRows)} more rows than 202s, only ${fmtInt(api.real.unanswered)} requests unanswered`;
  out.push(
    `- row check (taskq API, measured run): ${fmtInt(api.real.status202)} × 202, ${fmtInt(api.measuredRowDelta)} new rows in tasks, ` +
      `${fmtInt(api.missingIds)} accepted ids missing from tasks → ${rowsVerdict}`,
  );
  out.push(
    `- Redis check: ${fmtInt(api.apiRows)} rows from the API (warm-up + run) vs ${fmtInt(api.apiJobsInRedis)} jobs in its {noop} queue → ${api.apiRows === api.apiJobsInRedis ? 'OK' : 'MISMATCH'}`,
  );
  const totalAccepted = api.warmup202 + api.real.status202;
  out.push(
    `- PostgreSQL: ≈${api.commits === null ? 'n/a' : fmtInt(api.commits)} commits in the bench database for ${fmtInt(api.apiRows)} rows (warm-up + run) ` +
      `→ ≈${api.commits ? fmt(api.apiRows / api.commits, 1) : 'n/a'} tasks per INSERT (group commit)` +
      (api.apiRows !== totalAccepted ? `; ${fmtInt(totalAccepted)} × 202 in total` : ''),
  );
  const codes = (r: HttpRunResult): string => Object.entries(r.statusCodes).map(([code, count]) => `${code}: ${fmtInt(count)}`).join(', ');
  out.push(`- status codes: taskq {${codes(api.real)}}, bare {${codes(api.bare)}}; timeouts taskq ${api.real.timeouts}, bare ${api.bare.timeouts}`);
  if (api.apiExit !== 'code 0') out.push(`- ODD: the API ended with ${api.apiExit} on SIGTERM`);
  // Nest's shutdown hooks re-raise the signal once closed: ending by SIGTERM is normal for the bare app.
  if (api.bareExit !== 'code 0' && api.bareExit !== 'signal SIGTERM') out.push(`- ODD: the bare app ended with ${api.bareExit} on SIGTERM`);
  if (api.apiOutput.trim()) out.push(`- taskq API printed (LOG_LEVEL=warn):\n\n\`\`\`\n${lastLines(stripAnsi(api.apiOutput.trim()), 15)}\n\`\`\``);
  out.push('');

  out.push('### CPU seconds per process during each measured window (2 cores = at most 2 CPU-s per wall second)');
  out.push('');
  out.push(
    markdownTable(
      ['window', 'wall s', 'worker / app process', 'bench process', 'redis-server', 'postgres (all)', 'other processes'],
      [
        ['raw BullMQ worker (inside the bench process)', fmt(raw.seconds, 2), '–', ...cpuCells(raw.cpu, ['bench process', 'redis-server', 'postgres', OTHER])],
        ['taskq worker', fmt(taskq.seconds, 2), ...cpuCells(taskq.cpu, ['taskq worker', 'bench process', 'redis-server', 'postgres', OTHER])],
        ['bare app (autocannon = bench process)', fmt(api.bare.durationS, 2), ...cpuCells(api.bare.cpu, ['api process', 'bench process', 'redis-server', 'postgres', OTHER])],
        ['taskq API (autocannon = bench process)', fmt(api.real.durationS, 2), ...cpuCells(api.real.cpu, ['api process', 'bench process', 'redis-server', 'postgres', OTHER])],
      ],
      [false, true, true, true, true, true, true],
    ),
  );
  const windows: Array<[string, number, Record<string, number>]> = [
    ['the raw worker run', raw.seconds, raw.cpu],
    ['the taskq worker run', taskq.seconds, taskq.cpu],
    ['the bare app run', api.bare.durationS, api.bare.cpu],
    ['the taskq API run', api.real.durationS, api.real.cpu],
  ];
  for (const [label, wall, cpu] of windows) {
    const share = (cpu[OTHER] ?? 0) / (wall * env.cores);
    if (share > 0.05) out.push(`- WARNING: other processes used ${Math.round(share * 100)}% of the machine during ${label}: its figures are disturbed; run again on a quiet machine`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

/** autocannon records whole milliseconds. */
function ms(value: number): string {
  return value < 1 ? '<1' : fmt(value, 0);
}

function lastLines(text: string, count: number): string {
  const lines = text.split('\n');
  return (lines.length > count ? [`… (${lines.length - count} earlier lines)`, ...lines.slice(-count)] : lines).join('\n');
}

void main();
