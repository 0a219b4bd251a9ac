/**
 * The Markdown report: a summary table with ratios and the issue's targets first, then one
 * part per section that ran, the CPU table, memory, and the profiles (with --profile).
 */
import type { ApiPhase, HttpRunResult } from './api-throughput';
import type { BulkResult } from './bulk-intake';
import { NOOP_CONCURRENCY } from './context';
import type { RedisMemoryResult } from './memory';
import { profileReport, type ProfileEntry } from './profile';
import type { SustainResult } from './sustained';
import { OTHER, REPO_ROOT, fmt, fmtInt, fmtMb, markdownTable, microsPer, stripAnsi, type BenchConfig, type ProcessMemory } from './support';
import { scalingPart, type ScalingResult } from './worker-scaling';
import type { TaskqWorkerResult, WorkerRunResult } from './worker-throughput';

export interface Environment {
  cores: number;
  cpuModel: string;
  node: string;
  postgres: string;
  redis: string;
  redisPid: number;
  loadAverage: string;
}

export interface Results {
  worker?: { raw: WorkerRunResult; taskq: TaskqWorkerResult };
  api?: ApiPhase;
  bulk?: BulkResult;
  sustain?: SustainResult;
  memory?: RedisMemoryResult;
  scale?: ScalingResult;
  /** Child processes and in-process baselines that wrote (or should have written) a profile. */
  profiles: ProfileEntry[];
  profileDir: string | undefined;
}

/** autocannon records whole milliseconds. */
function ms(value: number): string {
  return !Number.isFinite(value) ? 'n/a' : value < 1 ? '<1' : fmt(value, 0);
}

/** Measured (sub-millisecond) latencies. */
function ms1(value: number): string {
  return !Number.isFinite(value) ? 'n/a' : value < 10 ? fmt(value, 1) : fmt(value, 0);
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) && b > 0 ? fmt(a / b, 2) : 'n/a';
}

function lastLines(text: string, count: number): string {
  const lines = text.split('\n');
  return (lines.length > count ? [`… (${lines.length - count} earlier lines)`, ...lines.slice(-count)] : lines).join('\n');
}

function cpuCells(cpu: Record<string, number>, labels: string[]): string[] {
  return labels.map((label) => (cpu[label] === undefined ? '–' : fmt(cpu[label] ?? 0)));
}

/** Peak resident memory: the kernel's high-water mark, or the sampled peak if that is higher (it is not, normally). */
function peakKb(memory: ProcessMemory): number {
  return Math.max(memory.hwmKb, memory.peakSampledKb);
}

function printed(label: string, output: string): string[] {
  const text = stripAnsi(output.trim());
  return text ? [`- ${label} printed (LOG_LEVEL=warn):\n\n\`\`\`\n${lastLines(text, 15)}\n\`\`\``] : [];
}

export function report(config: BenchConfig, env: Environment, run: string, results: Results): string {
  const out: string[] = [];
  const { worker, api, bulk, sustain, memory } = results;
  out.push('');
  out.push(`## taskq benchmark (run ${run})`);
  out.push('');
  out.push(`- machine: ${env.cores} cores (${env.cpuModel}), load average at start ${env.loadAverage}`);
  out.push(`- Node ${env.node}, PostgreSQL ${env.postgres}, Redis ${env.redis}; repository ${REPO_ROOT}`);
  out.push(
    `- BENCH_ONLY=${[...config.sections].join(',')}; BENCH_JOBS=${config.jobs}, BENCH_DURATION_S=${config.durationS}, BENCH_CONNECTIONS=${config.connections}, ` +
      `BENCH_WARMUP_S=${config.warmupS}, BENCH_BULK_TASKS=${config.bulkTasks}, BENCH_BULK_SIZE=${config.bulkSize}, BENCH_SUSTAIN_S=${config.sustainS}, ` +
      `BENCH_SUSTAIN_STEP_S=${config.sustainStepS}, BENCH_MEMORY_JOBS=${config.memoryJobs}; noop concurrency ${NOOP_CONCURRENCY}${config.profile ? '; CPU profiling ON (figures are slower than without)' : ''}`,
  );
  out.push('');

  // ---- Summary ----------------------------------------------------------------------------
  const rows: string[][] = [];
  if (worker) {
    const { raw, taskq } = worker;
    rows.push(['worker, noop jobs/s', fmtInt(taskq.jobsPerSecond), fmtInt(raw.jobsPerSecond), 'plain BullMQ Worker, same job data and options', ratio(taskq.jobsPerSecond, raw.jobsPerSecond), '≥ 0.8'])
    rows.push([
      'worker: Node CPU µs per job',
      microsPer(taskq.cpu['taskq worker'], taskq.jobs),
      microsPer(raw.cpu['bench process'], raw.jobs),
      'raw worker (bench process)',
      ratio(taskq.cpu['taskq worker'] ?? NaN, raw.cpu['bench process'] ?? NaN),
      '',
    ]);
    rows.push(['worker: PostgreSQL CPU µs per drained job', microsPer(taskq.cpu['postgres'], taskq.jobs), '', '', '', '≤ 60']);
    rows.push(['worker: Redis CPU µs per job', microsPer(taskq.cpu['redis-server'], taskq.jobs), microsPer(raw.cpu['redis-server'], raw.jobs), 'raw worker', ratio(taskq.cpu['redis-server'] ?? NaN, raw.cpu['redis-server'] ?? NaN), '']);
    rows.push([
      'worker: PostgreSQL commits / WAL bytes per job',
      `${taskq.commits === null ? 'n/a' : fmt(taskq.commits / taskq.jobs, 3)} / ${taskq.walBytes === null ? 'n/a' : fmtInt(taskq.walBytes / taskq.jobs)}`,
      '',
      '',
      '',
      '',
    ]);
  }
  if (api) {
    rows.push(['API, POST /submit-task req/s', fmtInt(api.real.requestsPerSecondMean), fmtInt(api.bare.requestsPerSecondMean), 'bare Nest 12 + Fastify route', ratio(api.real.requestsPerSecondMean, api.bare.requestsPerSecondMean), '≥ 0.3']);
    rows.push(['API latency p50 / p99 ms', `${ms(api.real.latencyP50Ms)} / ${ms(api.real.latencyP99Ms)}`, `${ms(api.bare.latencyP50Ms)} / ${ms(api.bare.latencyP99Ms)}`, `${config.connections} connections`, '', 'p99 ≤ 25']);
    rows.push(['API non-2xx / errors', `${fmtInt(api.real.non2xx)} / ${fmtInt(api.real.errors)}`, `${fmtInt(api.bare.non2xx)} / ${fmtInt(api.bare.errors)}`, '', '', '']);
    rows.push([
      'API: process CPU µs per request',
      microsPer(api.real.cpu['api process'], api.real.responses),
      microsPer(api.bare.cpu['api process'], api.bare.responses),
      'bare route',
      ratio((api.real.cpu['api process'] ?? NaN) / api.real.responses, (api.bare.cpu['api process'] ?? NaN) / api.bare.responses),
      '',
    ]);
    rows.push(['API: PostgreSQL CPU µs per accepted task', microsPer(api.real.cpu['postgres'], api.real.status202), '', '', '', '']);
  }
  if (bulk) {
    rows.push(['bulk intake, tasks/s', fmtInt(bulk.taskq.tasksPerSecond), fmtInt(bulk.raw.tasksPerSecond), `raw addBulk, ${fmtInt(bulk.size)} jobs per call`, ratio(bulk.taskq.tasksPerSecond, bulk.raw.tasksPerSecond), '≥ 0.8']);
    rows.push([
      'bulk: API / PostgreSQL CPU µs per task',
      `${microsPer(bulk.taskq.cpu['api process'], bulk.taskq.tasks)} / ${microsPer(bulk.taskq.cpu['postgres'], bulk.taskq.tasks)}`,
      `${microsPer(bulk.raw.cpu['bench process'], bulk.raw.tasks)} / –`,
      'raw: bench process / –',
      '',
      '',
    ]);
  }
  if (sustain) {
    const l = sustain.latency;
    rows.push([
      'sustained: highest flat rate, tasks/s',
      sustain.highestFlatRate === undefined ? 'none' : fmtInt(sustain.highestFlatRate),
      sustain.lowestGrowingRate === undefined ? '' : fmtInt(sustain.lowestGrowingRate),
      sustain.lowestGrowingRate === undefined ? 'no step grew: the limit is higher' : 'lowest rate where the backlog grew',
      '',
      '≥ 5,000',
    ]);
    rows.push([`sustained: submit→start p50 / p99 ms at ${fmtInt(l.rate)}/s`, `${ms1(l.dbP50Ms)} / ${ms1(l.dbP99Ms)}`, '', 'tasks.created_at → first attempt started_at', '', 'p99 < 50']);
  }
  const workerPeaks = [worker && ['worker', peakKb(worker.taskq.workerMemory)], sustain && ['sustain', peakKb(sustain.workerMemory)]].filter(Boolean) as Array<[string, number]>;
  const apiPeaks = [api && ['api', peakKb(api.apiMemory)], bulk && ['bulk', peakKb(bulk.apiMemory)], sustain && ['sustain', peakKb(sustain.apiMemory)]].filter(Boolean) as Array<
    [string, number]
  >;
  const highest = (peaks: Array<[string, number]>): [string, number] => peaks.reduce((best, peak) => (peak[1] > best[1] ? peak : best));
  const peakOf = (peaks: Array<[string, number]>, section: string): string =>
    peaks.length === 1 ? `in the ${section} section` : `highest in the ${section} section (of ${peaks.map(([name]) => name).join(', ')})`;
  if (workerPeaks.length > 0) {
    const [section, kb] = highest(workerPeaks);
    rows.push(['worker peak RSS, MB', fmtMb(kb), '', peakOf(workerPeaks, section), '', '< 150']);
  }
  if (apiPeaks.length > 0) {
    const [section, kb] = highest(apiPeaks);
    rows.push(['API peak RSS, MB', fmtMb(kb), api ? fmtMb(peakKb(api.bareMemory)) : '', `${api ? 'bare app; taskq: ' : ''}${peakOf(apiPeaks, section)}`, '', '< 200']);
  }
  if (memory) {
    rows.push([
      'Redis bytes per queued job',
      fmtInt(memory.taskq.usedMemoryDelta / memory.taskq.jobs),
      fmtInt(memory.plain.usedMemoryDelta / memory.plain.jobs),
      'plain BullMQ job: same options, empty data',
      ratio(memory.taskq.usedMemoryDelta, memory.plain.usedMemoryDelta),
      '≤ 512',
    ]);
  }
  out.push('### Summary');
  out.push('');
  out.push(markdownTable(['measure', 'taskq', 'baseline', 'baseline is', 'taskq / baseline', 'target (issue 11)'], rows, [false, true, true, false, true, false]));
  out.push('');

  if (worker) out.push(...workerPart(config, worker.raw, worker.taskq));
  if (api) out.push(...apiPart(config, api));
  if (bulk) out.push(...bulkPart(config, bulk));
  if (sustain) out.push(...sustainPart(config, sustain));
  if (memory || workerPeaks.length > 0 || apiPeaks.length > 0) out.push(...memoryPart(results));
  if (results.scale) out.push(...scalingPart(results.scale, env.cores));
  out.push(...cpuPart(env, results));
  if (results.profileDir) out.push(...profileReport(results.profiles, results.profileDir));
  return `${out.join('\n')}\n`;
}

function workerPart(config: BenchConfig, raw: WorkerRunResult, taskq: TaskqWorkerResult): string[] {
  const out: string[] = [];
  out.push(`### 1. Worker throughput: ${fmtInt(config.jobs)} noop jobs, concurrency ${NOOP_CONCURRENCY}, first job taken → last job done`);
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
  out.push(`**ratio taskq/raw: ${ratio(taskq.jobsPerSecond, raw.jobsPerSecond)}**`);
  out.push('');
  const perJob = (value: number | null, unit: string, digits = 2): string => (value === null ? 'n/a' : `${fmt(value / taskq.jobs, digits)} ${unit}`);
  out.push(`- taskq: ${fmtInt(taskq.attempts)} attempt rows, ${fmtInt(taskq.failed)} tasks not completed; worker start-up (spawn → first job) ${fmt(taskq.startupSeconds, 2)} s, not counted`);
  out.push(`- taskq: first attempt started_at → last tasks.finished_at in PostgreSQL ${fmt(taskq.dbWindowSeconds, 2)} s (the figure above ends when the bench's poll sees all rows completed)`);
  out.push(
    `- taskq: ≈${taskq.commits === null ? 'n/a' : fmtInt(taskq.commits)} PostgreSQL commits in the bench database (${perJob(taskq.commits, 'per job', 3)}; 2 writes per job unbatched), ` +
      `≈${taskq.walSyncs === null ? 'n/a' : fmtInt(taskq.walSyncs)} WAL fsyncs, WAL ${taskq.walBytes === null ? 'n/a' : `${fmt(taskq.walBytes / 1e6)} MB`} (${perJob(taskq.walBytes, 'bytes per job', 0)})`,
  );
  out.push(
    `- CPU per job: taskq worker process ${microsPer(taskq.cpu['taskq worker'], taskq.jobs)} µs, PostgreSQL ${microsPer(taskq.cpu['postgres'], taskq.jobs)} µs, ` +
      `Redis ${microsPer(taskq.cpu['redis-server'], taskq.jobs)} µs; raw: bench process ${microsPer(raw.cpu['bench process'], raw.jobs)} µs, Redis ${microsPer(raw.cpu['redis-server'], raw.jobs)} µs`,
  );
  out.push(
    `- taskq: progress watched through ${fmtInt(taskq.redisPolls)} Redis counter polls (every 20 ms) and ${taskq.postgresPolls} PostgreSQL count(s) once Redis was drained (${fmt(taskq.pollAverageMs, 1)} ms each); the worker ended with ${taskq.workerExit} on SIGTERM`,
  );
  out.push(`- raw: ${fmtInt(raw.failed)} failed jobs; worker creation → first job ${fmt(raw.startupSeconds, 2)} s, not counted`);
  for (const note of [...raw.notes.map((n) => `raw: ${n}`), ...taskq.notes.map((n) => `taskq: ${n}`)]) out.push(`- ODD: ${note}`);
  out.push(...printed('taskq worker', taskq.workerOutput));
  out.push('');
  return out;
}

function apiPart(config: BenchConfig, api: ApiPhase): string[] {
  const out: string[] = [];
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
  out.push(`**ratio taskq/bare: ${ratio(api.real.requestsPerSecondMean, api.bare.requestsPerSecondMean)}**`);
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
  out.push(
    `- CPU per request (measured run): taskq API process ${microsPer(api.real.cpu['api process'], api.real.responses)} µs, PostgreSQL ${microsPer(api.real.cpu['postgres'], api.real.responses)} µs, ` +
      `Redis ${microsPer(api.real.cpu['redis-server'], api.real.responses)} µs; bare app ${microsPer(api.bare.cpu['api process'], api.bare.responses)} µs`,
  );
  const codes = (r: HttpRunResult): string => Object.entries(r.statusCodes).map(([code, count]) => `${code}: ${fmtInt(count)}`).join(', ');
  out.push(`- status codes: taskq {${codes(api.real)}}, bare {${codes(api.bare)}}; timeouts taskq ${api.real.timeouts}, bare ${api.bare.timeouts}`);
  if (api.apiExit !== 'code 0') out.push(`- ODD: the API ended with ${api.apiExit} on SIGTERM`);
  if (api.bareExit !== 'code 0') out.push(`- ODD: the bare app ended with ${api.bareExit} on SIGTERM`);
  out.push(...printed('taskq API', api.apiOutput));
  out.push('');
  return out;
}

function bulkPart(config: BenchConfig, bulk: BulkResult): string[] {
  const out: string[] = [];
  const { taskq, raw } = bulk;
  out.push(`### 3. Bulk intake: ${fmtInt(taskq.requests)} × POST /tasks/bulk of ${fmtInt(bulk.size)} noop tasks, one client, back to back (after ${config.warmupS} s warm-up)`);
  out.push('');
  out.push(
    markdownTable(
      ['side', 'calls', 'tasks', 'seconds', 'tasks/s', 'p50 ms per call', 'p99 ms', 'max ms'],
      [
        [`raw BullMQ addBulk, ${fmtInt(bulk.size)} taskq jobs per call, bench process`, fmtInt(raw.requests), fmtInt(raw.tasks), fmt(raw.seconds, 2), fmtInt(raw.tasksPerSecond), ms1(raw.p50Ms), ms1(raw.p99Ms), ms1(raw.maxMs)],
        ['taskq API (dist): validate + insert + addBulk, per request', fmtInt(taskq.requests), fmtInt(taskq.tasks), fmt(taskq.seconds, 2), fmtInt(taskq.tasksPerSecond), ms1(taskq.p50Ms), ms1(taskq.p99Ms), ms1(taskq.maxMs)],
      ],
      [false, true, true, true, true, true, true, true],
    ),
  );
  out.push('');
  out.push(`**ratio taskq/raw: ${ratio(taskq.tasksPerSecond, raw.tasksPerSecond)}**`);
  out.push('');
  const accepted = taskq.acceptedIds.length;
  const rowsOk = bulk.missingRows === 0 && bulk.rows === accepted + bulk.warmupAccepted;
  out.push(
    `- row check: ${fmtInt(accepted)} tasks accepted in the measured run, ${fmtInt(bulk.missingRows)} of them missing from tasks; ${fmtInt(bulk.rows)} rows in all ` +
      `(${fmtInt(bulk.warmupAccepted)} from the warm-up) → ${rowsOk ? 'OK' : 'MISMATCH'}`,
  );
  out.push(
    `- Redis check: ${fmtInt(bulk.missingJobs)} accepted tasks without a job; ${fmtInt(bulk.jobsInRedis)} jobs in the {noop} queue for ${fmtInt(bulk.rows)} rows → ` +
      `${bulk.missingJobs === 0 && bulk.jobsInRedis === bulk.rows ? 'OK' : 'MISMATCH'}`,
  );
  out.push(
    `- CPU per task: taskq API process ${microsPer(taskq.cpu['api process'], taskq.tasks)} µs, PostgreSQL ${microsPer(taskq.cpu['postgres'], taskq.tasks)} µs, Redis ${microsPer(taskq.cpu['redis-server'], taskq.tasks)} µs, ` +
      `client ${microsPer(taskq.cpu['bench process'], taskq.tasks)} µs; raw: bench process ${microsPer(raw.cpu['bench process'], raw.tasks)} µs, Redis ${microsPer(raw.cpu['redis-server'], raw.tasks)} µs`,
  );
  out.push(
    `- PostgreSQL: ≈${bulk.commits === null ? 'n/a' : fmtInt(bulk.commits)} commits in the bench database for ${fmtInt(bulk.rows)} rows (warm-up + run)`,
  );
  const codes = Object.entries(taskq.statusCodes).map(([code, count]) => `${code}: ${fmtInt(count)}`).join(', ');
  out.push(`- status codes {${codes}}, errors ${taskq.errors}${taskq.firstProblem ? `; first problem: ${taskq.firstProblem}` : ''}`);
  if (bulk.apiExit !== 'code 0') out.push(`- ODD: the API ended with ${bulk.apiExit} on SIGTERM`);
  out.push(...printed('taskq API', bulk.apiOutput));
  out.push('');
  return out;
}

function sustainPart(config: BenchConfig, s: SustainResult): string[] {
  const out: string[] = [];
  out.push(
    `### 4. Sustained end to end: API + worker together, POST /submit-task at a paced rate, BENCH_SUSTAIN_S=${config.sustainS} ` +
      `(rate search ${fmt(s.searchSeconds, 0)} s in steps of ${config.sustainStepS} s, then ${s.latencySeconds} s at half the highest flat rate)`,
  );
  out.push('');
  out.push(
    markdownTable(
      ['step', 'offered/s', 'sent', 'answered in step', 'backlog start → end', 'growth/s', 'HTTP p50 / p99 ms', 'flat?'],
      s.steps.map((step, index) => [
        String(index + 1),
        fmtInt(step.rate),
        fmtInt(step.sent),
        `${fmtInt(step.answeredInWindow)}`,
        `${fmtInt(step.backlogStart)} → ${fmtInt(step.backlogEnd)}`,
        Math.round(step.slope) === 0 ? '0' : fmtInt(step.slope),
        `${ms1(step.p50Ms)} / ${ms1(step.p99Ms)}`,
        step.flat ? 'yes' : `no: ${step.reason}`,
      ]),
      [true, true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(
    `**highest flat rate: ${s.highestFlatRate === undefined ? 'none of the steps' : `${fmtInt(s.highestFlatRate)} tasks/s`}**` +
      (s.lowestGrowingRate !== undefined ? ` (the backlog grew at ${fmtInt(s.lowestGrowingRate)}/s)` : ' (no step grew the backlog: the limit lies above the last step)'),
  );
  out.push('');
  const l = s.latency;
  out.push(
    markdownTable(
      [`at ${fmtInt(l.rate)} tasks/s for ${fmt(l.seconds, 1)} s`, 'tasks', 'p50 ms', 'p99 ms', 'max ms'],
      [
        ['submit→start, PostgreSQL: tasks.created_at → first task_attempts.started_at', fmtInt(l.dbCount), ms1(l.dbP50Ms), ms1(l.dbP99Ms), ms1(l.dbMaxMs)],
        ['submit→start, client: request sent → first task_attempts.started_at', fmtInt(l.dbCount), ms1(l.clientP50Ms), ms1(l.clientP99Ms), ''],
        ['HTTP answer: scheduled send → 202', fmtInt(l.accepted), ms1(l.httpP50Ms), ms1(l.httpP99Ms), ''],
      ],
      [false, true, true, true, true],
    ),
  );
  out.push('');
  out.push(
    `- latency window: ${fmtInt(l.sent)} sent, ${fmtInt(l.accepted)} × 202, ${fmtInt(l.non2xx)} non-2xx, ${fmtInt(l.errors)} errors, ${fmtInt(l.skipped)} not sent; ` +
      `${fmtInt(l.notStarted)} accepted tasks had not started when read; the client ran up to ${ms1(l.maxLagMs)} ms behind its schedule`,
  );
  const grew = l.backlog.slope > Math.max(0.03 * l.rate, 25);
  out.push(
    `- backlog in the latency window: ${fmtInt(l.backlog.start)} → ${fmtInt(l.backlog.end)}, at most ${fmtInt(l.backlog.max)}, growth ${fmtInt(Math.round(l.backlog.slope) || 0)}/s` +
      (grew ? ' — **NOT flat at half the rate: these latencies include queueing; the machine was probably busier than during the search**' : ' (flat)'),
  );
  out.push(
    `- CPU per task in the latency window: API ${microsPer(l.cpu['api process'], l.accepted)} µs, worker ${microsPer(l.cpu['taskq worker'], l.accepted)} µs, ` +
      `PostgreSQL ${microsPer(l.cpu['postgres'], l.accepted)} µs, Redis ${microsPer(l.cpu['redis-server'], l.accepted)} µs, client ${microsPer(l.cpu['bench process'], l.accepted)} µs`,
  );
  out.push(
    `- every step after a growing one, and the latency window, started from an empty backlog: the worker drained for ${fmt(s.drainSeconds, 1)} s in all ` +
      `(${fmt(s.drainBeforeLatencyS, 1)} s before the latency window), not counted in BENCH_SUSTAIN_S`,
  );
  const consistent = s.rows === s.totalAccepted && s.unfinished === 0;
  out.push(
    `- consistency: ${fmtInt(s.totalAccepted)} × 202 in the section (warm-up included), ${fmtInt(s.rows)} rows, ${fmtInt(s.unfinished)} not completed after the drain → ` +
      `${consistent ? 'OK' : s.rows > s.totalAccepted ? 'more rows than 202s (requests the client gave up on may still commit)' : 'MISMATCH'}`,
  );
  if (s.firstProblem) out.push(`- first problem answer: ${s.firstProblem}`);
  if (s.apiExit !== 'code 0') out.push(`- ODD: the API ended with ${s.apiExit} on SIGTERM`);
  if (s.workerExit !== 'code 0') out.push(`- ODD: the worker ended with ${s.workerExit} on SIGTERM`);
  out.push(...printed('taskq API', s.apiOutput));
  out.push(...printed('taskq worker', s.workerOutput));
  out.push('');
  return out;
}

function memoryPart(results: Results): string[] {
  const out: string[] = [];
  const { worker, api, bulk, sustain, memory } = results;
  out.push('### 5. Memory');
  out.push('');
  const rss: string[][] = [];
  const row = (process: string, section: string, m: ProcessMemory, target: string): void => {
    rss.push([process, section, fmtMb(m.peakSampledKb), fmtMb(m.hwmKb), target]);
  };
  if (worker) row('taskq worker', `1. worker (${fmtInt(worker.taskq.jobs)} jobs queued at once)`, worker.taskq.workerMemory, '< 150');
  if (api) {
    row('taskq API', '2. API (autocannon)', api.apiMemory, '< 200');
    row('bare Nest app', '2. API (autocannon)', api.bareMemory, '');
  }
  if (bulk) row('taskq API', `3. bulk (${fmtInt(bulk.size)} tasks per request)`, bulk.apiMemory, '< 200');
  if (sustain) {
    row('taskq API', '4. sustained', sustain.apiMemory, '< 200');
    row('taskq worker', '4. sustained', sustain.workerMemory, '< 150');
  }
  if (rss.length > 0) {
    out.push(markdownTable(['process', 'section', 'peak RSS MB (sampled every 100 ms)', 'VmHWM MB (kernel peak)', 'target MB'], rss, [false, false, true, true, false]));
    out.push('');
  }
  if (memory) {
    const { taskq, plain, bare } = memory;
    out.push(
      markdownTable(
        ['Redis, jobs queued and waiting', 'jobs', 'used_memory Δ bytes', 'bytes per job', 'MEMORY USAGE of the keys, bytes per job', 'keys'],
        [
          ['taskq jobs (TaskProducer, jobSpecFor/jobOptionsFor)', fmtInt(taskq.jobs), fmtInt(taskq.usedMemoryDelta), fmtInt(taskq.usedMemoryDelta / taskq.jobs), fmtInt(taskq.keyBytes / taskq.jobs), fmtInt(taskq.keys)],
          ['plain BullMQ jobs, same options, data {}', fmtInt(plain.jobs), fmtInt(plain.usedMemoryDelta), fmtInt(plain.usedMemoryDelta / plain.jobs), fmtInt(plain.keyBytes / plain.jobs), fmtInt(plain.keys)],
          ['plain BullMQ jobs, default options (jobId only), data {}', fmtInt(bare.jobs), fmtInt(bare.usedMemoryDelta), fmtInt(bare.usedMemoryDelta / bare.jobs), fmtInt(bare.keyBytes / bare.jobs), fmtInt(bare.keys)],
        ],
        [false, true, true, true, true, true],
      ),
    );
    out.push('');
    out.push(`**taskq: ${fmt(taskq.usedMemoryDelta / taskq.jobs / 1024, 2)} KB per queued job (target ≤ 0.5 KB); plain BullMQ: ${fmt(plain.usedMemoryDelta / plain.jobs / 1024, 2)} KB**`);
    out.push('');
    const show = (fields: Record<string, string>): string => JSON.stringify(fields);
    out.push(`- one taskq job hash: \`${show(taskq.sampleFields)}\``);
    out.push(`- one plain job hash (same options): \`${show(plain.sampleFields)}\``);
    out.push(`- one plain job hash (default options): \`${show(bare.sampleFields)}\``);
    out.push(`- used_memory is server-wide: another client's keys move it; the MEMORY USAGE column counts only the bench's keys (without Redis's per-key dictionary overhead)`);
    out.push('');
  }
  return out;
}

function cpuPart(env: Environment, results: Results): string[] {
  const out: string[] = [];
  const { worker, api, bulk, sustain } = results;
  const windows: Array<[string, number, Record<string, number>, string]> = [];
  if (worker) {
    windows.push(['raw BullMQ worker (inside the bench process)', worker.raw.seconds, worker.raw.cpu, '']);
    windows.push(['taskq worker', worker.taskq.seconds, worker.taskq.cpu, 'taskq worker']);
  }
  if (api) {
    windows.push(['bare app (autocannon = bench process)', api.bare.durationS, api.bare.cpu, 'api process']);
    windows.push(['taskq API (autocannon = bench process)', api.real.durationS, api.real.cpu, 'api process']);
  }
  if (bulk) {
    windows.push(['raw addBulk (inside the bench process)', bulk.raw.seconds, bulk.raw.cpu, '']);
    windows.push(['taskq API, bulk (client = bench process)', bulk.taskq.seconds, bulk.taskq.cpu, 'api process']);
  }
  if (sustain) windows.push([`sustained latency window (API + worker; client = bench process)`, sustain.latency.seconds, sustain.latency.cpu, 'api process']);
  if (windows.length === 0) return out;
  out.push('### CPU seconds per process during each measured window (2 cores = at most 2 CPU-s per wall second)');
  out.push('');
  out.push(
    markdownTable(
      ['window', 'wall s', 'worker / app process', 'taskq worker beside the API', 'bench process', 'redis-server', 'postgres (server + bench db)', 'other processes'],
      windows.map(([label, wall, cpu, app]) => [
        label,
        fmt(wall, 2),
        app ? fmt(cpu[app] ?? 0) : '–',
        app === 'api process' && cpu['taskq worker'] !== undefined ? fmt(cpu['taskq worker'] ?? 0) : '–',
        ...cpuCells(cpu, ['bench process', 'redis-server', 'postgres', OTHER]),
      ]),
      [false, true, true, true, true, true, true, true],
    ),
  );
  out.push('');
  out.push(
    `(postgres counts the server's own processes and the backends of the bench database; backends of other databases, someone else's tests, count as other processes. Redis is shared and counted whole.)`,
  );
  for (const [label, wall, cpu] of windows) {
    const share = (cpu[OTHER] ?? 0) / (wall * env.cores);
    if (share > 0.05) out.push(`- WARNING: other processes used ${Math.round(share * 100)}% of the machine during ${label}: its figures are disturbed; run again on a quiet machine`);
  }
  out.push('');
  return out;
}
