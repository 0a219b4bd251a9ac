/**
 * Worker scaling: the same backlog drained by 1, 2 and 4 taskq worker processes, for the
 * CPU-bound `noop` type and the I/O-bound `sleep` type. Tasks are committed first; once every
 * process of a run has connected, their jobs are queued (as bulk submissions would); the clock
 * runs from the first attempt's start to the last task's finish, as PostgreSQL recorded them.
 */
import { NOOP_CONCURRENCY, log, type BenchContext } from './context';
import { enqueueTasks, insertTaskRows, openProducer, prepareTasks } from './task-jobs';
import { cpuDelta, cpuSnapshot, deleteRedisPrefix, fmt, fmtInt, markdownTable, waitFor, type ChildApp, type CpuGroups } from './support';

export const SCALE_PROCESSES = [1, 2, 4] as const;
/** Jobs one process runs at once, per type: noop as in the worker section, sleep at its registry default. */
const CONCURRENCY: Record<'noop' | 'sleep', number> = { noop: NOOP_CONCURRENCY, sleep: 20 };

export interface ScalingRun {
  type: 'noop' | 'sleep';
  processes: number;
  tasks: number;
  /** First attempt started → last task finished. */
  seconds: number;
  jobsPerSecond: number;
  /** CPU seconds of the workers together, PostgreSQL and Redis, while the backlog drained. */
  cpu: Record<string, number>;
  notes: string[];
}

export interface ScalingResult {
  sleepMs: number;
  runs: ScalingRun[];
}

async function drain(ctx: BenchContext, type: 'noop' | 'sleep', processes: number, tasks: number, payload: Record<string, unknown>): Promise<ScalingRun> {
  const prefix = ctx.prefix(`scale-${type}-${processes}`);
  const notes: string[] = [];
  await ctx.resetTables();
  const prepared = await prepareTasks(type, payload, tasks);
  await insertTaskRows(ctx.databaseUrl, prepared);
  const { producer, close } = await openProducer(ctx.config.redisUrl, prefix);
  const workers: ChildApp[] = [];
  try {
    for (let index = 0; index < processes; index++) {
      workers.push(ctx.startWorker('scale', prefix, { type, concurrency: CONCURRENCY[type] }, `scale-${type}-${processes}-${index + 1}`));
    }
    const exited = (): string | undefined => workers.map((worker) => worker.hasExited()).find((exit) => exit !== undefined);
    // Every process is up (its BullMQ worker connected) before the jobs arrive: start-up is not in the figures.
    await waitFor(async () => (await producer.queue(type).getWorkersCount()) >= processes, { timeoutMs: ctx.waitMs, intervalMs: 100, description: `${processes} ${type} worker(s) to connect`, abort: exited });
    const groups: CpuGroups = { ...ctx.cpuGroups, 'taskq workers': workers.map((worker) => worker.pid) };
    const before = cpuSnapshot(groups);
    await enqueueTasks(producer, prepared);
    await waitFor(
      async () => {
        const [row] = await ctx.query<{ unfinished: number }>(`SELECT count(*)::int AS unfinished FROM tasks WHERE status NOT IN ('completed', 'dead', 'cancelled')`);
        return row?.unfinished === 0;
      },
      { timeoutMs: ctx.waitMs, intervalMs: 100, description: `${processes} ${type} worker process(es) to finish ${tasks} tasks`, abort: exited },
    );
    const cpu = cpuDelta(before, cpuSnapshot(groups));
    const [window] = await ctx.query<{ first_start: Date; last_finish: Date; completed: number; attempts: number }>(`
      SELECT (SELECT min(started_at) FROM task_attempts) AS first_start,
             (SELECT max(finished_at) FROM tasks) AS last_finish,
             (SELECT count(*)::int FROM tasks WHERE status = 'completed') AS completed,
             (SELECT count(*)::int FROM task_attempts) AS attempts`);
    if (!window) throw new Error('scaling bench: no attempt timestamps');
    if (window.completed !== tasks) notes.push(`${window.completed} of ${tasks} tasks completed`);
    if (window.attempts !== tasks) notes.push(`${window.attempts} attempts for ${tasks} tasks`);
    const seconds = (window.last_finish.getTime() - window.first_start.getTime()) / 1_000;
    return { type, processes, tasks, seconds, jobsPerSecond: tasks / seconds, cpu, notes };
  } finally {
    const exits = await Promise.all(workers.map((worker) => worker.stop().catch((error: Error) => error.message)));
    for (const exit of exits) if (exit !== 'code 0') notes.push(`a worker ended with ${exit}`);
    await close();
    await deleteRedisPrefix(ctx.config.redisUrl, prefix);
  }
}

export async function benchWorkerScaling(ctx: BenchContext): Promise<ScalingResult> {
  const { config } = ctx;
  const runs: ScalingRun[] = [];
  for (const processes of SCALE_PROCESSES) {
    log(`worker scaling: ${processes} process(es), ${config.scaleNoopTasks} noop tasks`);
    runs.push(await drain(ctx, 'noop', processes, config.scaleNoopTasks, {}));
    log(`  ${fmtInt(runs[runs.length - 1]?.jobsPerSecond ?? 0)} jobs/s`);
  }
  for (const processes of SCALE_PROCESSES) {
    log(`worker scaling: ${processes} process(es), ${config.scaleSleepTasks} sleep tasks of ${config.scaleSleepMs} ms`);
    runs.push(await drain(ctx, 'sleep', processes, config.scaleSleepTasks, { ms: config.scaleSleepMs }));
    log(`  ${fmtInt(runs[runs.length - 1]?.jobsPerSecond ?? 0)} jobs/s`);
  }
  return { sleepMs: config.scaleSleepMs, runs };
}

/** The report's part: jobs/s per process count, the ratio to one process, and what it would be if concurrency were the only limit. */
export function scalingPart(result: ScalingResult, cores: number): string[] {
  const out: string[] = [];
  out.push(`### 6. Worker scaling: 1, 2 and 4 worker processes (one queue each run; noop concurrency ${CONCURRENCY.noop}, sleep concurrency ${CONCURRENCY.sleep} per process, sleep ${result.sleepMs} ms)`);
  out.push('');
  const rows = result.runs.map((run) => {
    const one = result.runs.find((other) => other.type === run.type && other.processes === 1);
    const ideal = run.type === 'sleep' ? (run.processes * CONCURRENCY.sleep * 1_000) / result.sleepMs : NaN;
    const cpuPer = (group: string): string => fmtInt(((run.cpu[group] ?? 0) * 1e6) / run.tasks);
    return [
      run.type,
      String(run.processes),
      fmtInt(run.tasks),
      fmt(run.seconds, 2),
      fmtInt(run.jobsPerSecond),
      one ? fmt(run.jobsPerSecond / one.jobsPerSecond, 2) : 'n/a',
      Number.isFinite(ideal) ? fmtInt(ideal) : '–',
      `${cpuPer('taskq workers')} / ${cpuPer('postgres')} / ${cpuPer('redis-server')}`,
      run.notes.join('; '),
    ];
  });
  out.push(
    markdownTable(
      ['type', 'processes', 'tasks', 'seconds', 'jobs/s', '× one process', 'concurrency bound, jobs/s', 'CPU µs per job: workers / PostgreSQL / Redis', 'notes'],
      rows,
      [false, true, true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(
    `(noop is CPU-bound: on ${cores} cores the workers, PostgreSQL and Redis share them, so it can scale at most to the core count. sleep waits: its bound is processes × concurrency / sleep, until the writes per job become the limit.)`,
  );
  out.push('');
  return out;
}
