/**
 * Sustained end to end: the real API and the real worker run together while the bench submits
 * `POST /submit-task` at a fixed offered rate (an open-loop paced client: requests leave on
 * schedule whether or not earlier ones were answered). The rate steps up until the backlog
 * (jobs waiting in Redis) grows or the API falls behind, then narrows in between the last
 * flat and the first growing step. At half the highest flat rate, submit→start latency is read
 * from PostgreSQL: tasks.created_at → the first task_attempts.started_at of the task.
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Pool } from 'undici';
import { createRedisConnection, queueNameFor } from '@taskq/queue';
import { SUBMIT_BODY } from './api-throughput';
import { BENCH_API_KEY, log, type BenchContext } from './context';
import { waitingJobs } from './task-jobs';
import { cpuDelta, cpuSnapshot, monotonicUs, percentile, sleep, waitFor, type ChildApp, type ProcessMemory, type Window } from './support';

const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };

/** Each step grows the rate by this factor until a step fails; then the gap is bisected. */
const GROWTH = 1.5;
/** Narrowing stops once the first failing rate is within this factor of the last flat one. */
const PRECISION = 1.1;
/** The backlog may grow by this share of the offered rate (jobs/s) and still count as flat… */
const SLOPE_TOLERANCE = 0.03;
/** …or by this many jobs/s: a worker taking 50 jobs at a time makes the reading jumpy. */
const SLOPE_FLOOR = 25;
/** The API keeps up when it answers this share of a step's requests within the step. */
const ANSWERED_SHARE = 0.95;
const BACKLOG_SAMPLE_MS = 200;

interface StepTally {
  sent: number;
  /** Not sent: too many requests were already in flight (the API is far behind). */
  skipped: number;
  answered: number;
  accepted: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  firstProblem: string | undefined;
  /** Request latency from its scheduled send time to its answer, ms. */
  latencies: number[];
  /** The client's worst delay behind its schedule, ms (its own timer and event-loop lag). */
  maxLagMs: number;
  /** Accepted task ids and when each request left (epoch ms), when collected. */
  ids: string[];
  sentAtMs: number[];
}

interface PacedWindow {
  tally: StepTally;
  /** Answers (to any step's requests) received inside the window. */
  answeredInWindow: number;
  seconds: number;
}

/** An open-loop client: `rate` requests per second leave on schedule, over up to `connections` sockets. */
class PacedClient {
  private readonly pool: Pool;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private answeredTotal = 0;

  constructor(
    url: string,
    private readonly connections: number,
    timeoutMs: number,
  ) {
    this.pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async run(rate: number, seconds: number, collectIds: boolean): Promise<PacedWindow> {
    const tally: StepTally = {
      sent: 0,
      skipped: 0,
      answered: 0,
      accepted: 0,
      non2xx: 0,
      errors: 0,
      statusCodes: {},
      firstProblem: undefined,
      latencies: [],
      maxLagMs: 0,
      ids: [],
      sentAtMs: [],
    };
    const maxInFlight = this.connections * 4;
    const answeredBefore = this.answeredTotal;
    const start = performance.now();
    const end = start + seconds * 1_000;
    let scheduledCount = 0;
    for (;;) {
      const now = performance.now();
      if (now >= end) break;
      const due = Math.floor(((now - start) / 1_000) * rate);
      while (scheduledCount < due) {
        const scheduledAt = start + (scheduledCount / rate) * 1_000;
        scheduledCount++;
        if (this.inFlight >= maxInFlight) {
          tally.skipped++;
          continue;
        }
        tally.maxLagMs = Math.max(tally.maxLagMs, now - scheduledAt);
        this.send(tally, scheduledAt, collectIds);
      }
      await sleep(1);
    }
    return { tally, answeredInWindow: this.answeredTotal - answeredBefore, seconds: (performance.now() - start) / 1_000 };
  }

  private send(tally: StepTally, scheduledAt: number, collectIds: boolean): void {
    tally.sent++;
    this.inFlight++;
    const sentAtMs = performance.timeOrigin + performance.now();
    const request = (async () => {
      try {
        const answer = await this.pool.request({ path: '/submit-task', method: 'POST', headers, body: SUBMIT_BODY });
        const text = await answer.body.text();
        tally.latencies.push(performance.now() - scheduledAt);
        tally.answered++;
        tally.statusCodes[answer.statusCode] = (tally.statusCodes[answer.statusCode] ?? 0) + 1;
        if (answer.statusCode === 202) {
          tally.accepted++;
          if (collectIds) {
            tally.ids.push((JSON.parse(text) as { id: string }).id);
            tally.sentAtMs.push(sentAtMs);
          }
        } else {
          tally.non2xx++;
          tally.firstProblem ??= `${answer.statusCode} ${text.slice(0, 300)}`;
        }
      } catch (error) {
        tally.errors++;
        tally.firstProblem ??= (error as Error).message;
      } finally {
        this.inFlight--;
        this.answeredTotal++;
      }
    })();
    this.pending.add(request);
    void request.finally(() => this.pending.delete(request));
  }

  /** Waits for every request still in flight. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.pool.close().catch(() => undefined);
  }
}

interface BacklogReading {
  start: number;
  end: number;
  max: number;
  /** Least-squares growth over the window's last 60 %, jobs/s. */
  slope: number;
}

export interface SustainStep {
  rate: number;
  seconds: number;
  sent: number;
  skipped: number;
  answeredInWindow: number;
  non2xx: number;
  errors: number;
  backlogStart: number;
  backlogEnd: number;
  /** Least-squares growth of the backlog over the step's last 60 %, jobs/s. */
  slope: number;
  flat: boolean;
  /** Why the step is not flat. */
  reason: string;
  p50Ms: number;
  p99Ms: number;
}

export interface SustainResult {
  steps: SustainStep[];
  highestFlatRate: number | undefined;
  /** The first rate that was not flat, when one was found. */
  lowestGrowingRate: number | undefined;
  latency: {
    rate: number;
    seconds: number;
    sent: number;
    accepted: number;
    non2xx: number;
    errors: number;
    skipped: number;
    maxLagMs: number;
    /** HTTP: scheduled send → answer. */
    httpP50Ms: number;
    httpP99Ms: number;
    /** PostgreSQL: tasks.created_at → first task_attempts.started_at. */
    dbCount: number;
    dbP50Ms: number;
    dbP99Ms: number;
    dbMaxMs: number;
    /** Client: the request leaving → first task_attempts.started_at. */
    clientP50Ms: number;
    clientP99Ms: number;
    notStarted: number;
    cpu: Record<string, number>;
    backlog: BacklogReading;
  };
  drainBeforeLatencyS: number;
  /** All waits for the worker to drain (after growing steps and before the latency window). */
  drainSeconds: number;
  searchSeconds: number;
  latencySeconds: number;
  totalAccepted: number;
  rows: number;
  unfinished: number;
  firstProblem: string | undefined;
  apiExit: string;
  workerExit: string;
  apiOutput: string;
  workerOutput: string;
  apiMemory: ProcessMemory;
  workerMemory: ProcessMemory;
  apiProfile: string | undefined;
  workerProfile: string | undefined;
  /** First step → end of the latency window, for cutting the profiles. */
  window: Window;
}

function slopeOf(points: Array<[number, number]>): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const meanT = points.reduce((sum, [t]) => sum + t, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) {
    num += (t - meanT) * (y - meanY);
    den += (t - meanT) ** 2;
  }
  return den > 0 ? num / den : 0;
}

const roundRate = (rate: number): number => Math.max(10, Math.round(rate / 10) * 10);

export async function benchSustained(ctx: BenchContext, prefix: string): Promise<SustainResult> {
  const { config } = ctx;
  const latencySeconds = Math.max(5, Math.round(config.sustainS / 3));
  const searchSeconds = config.sustainS - latencySeconds;
  const stepS = config.sustainStepS;

  log('sustained: starting the taskq API and worker');
  const { app: api, url } = await ctx.startApi('sustain', prefix);
  const worker: ChildApp = ctx.startWorker('sustain', prefix);
  const connection = createRedisConnection(config.redisUrl, 'worker');
  const queue = new Queue(queueNameFor('noop'), { connection, prefix });
  queue.on('error', () => undefined);
  const client = new PacedClient(url, config.sustainConnections, ctx.waitMs);
  const abort = (): string | undefined => api.hasExited() ?? worker.hasExited();
  try {
    // Ready end to end: one task submitted over HTTP and completed by the worker.
    const probe = await fetch(`${url}/submit-task`, { method: 'POST', headers, body: SUBMIT_BODY });
    if (probe.status !== 202) throw new Error(`sustained: the first submission answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    const probeId = ((await probe.json()) as { id: string }).id;
    await waitFor(async () => (await ctx.query<{ status: string }>('SELECT status FROM tasks WHERE id = $1', [probeId]))[0]?.status === 'completed', {
      timeoutMs: Math.min(ctx.waitMs, 60_000),
      intervalMs: 100,
      description: 'the worker to complete a first task',
      abort,
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- worker output ---\n${worker.output()}`);
    });
    // Every tally fills in as answers arrive; by the end (after drain) they are complete.
    const tallies: StepTally[] = [];
    if (config.warmupS > 0) {
      log(`sustained: warming up at ${config.sustainStartRate} tasks/s (${config.warmupS} s)`);
      tallies.push((await client.run(config.sustainStartRate, config.warmupS, false)).tally);
    }

    // ---- search: step the rate up, then narrow ----
    const steps: SustainStep[] = [];
    let rate = config.sustainStartRate;
    let highestFlat: number | undefined;
    let lowestGrowing: number | undefined;
    let loadSeconds = 0;
    let firstProblem: string | undefined;
    let drainSeconds = 0;
    /** A paced window with the backlog sampled every 200 ms; its growth is the slope over the last 60 %. */
    const runWatched = async (offered: number, seconds: number, collectIds: boolean): Promise<{ window: PacedWindow; backlog: BacklogReading }> => {
      const samples: Array<[number, number]> = [];
      let sampling = true;
      const start = performance.now();
      const sampler = (async () => {
        while (sampling) {
          const waiting = await waitingJobs(queue).catch(() => undefined);
          if (waiting !== undefined) samples.push([(performance.now() - start) / 1_000, waiting]);
          await sleep(BACKLOG_SAMPLE_MS);
        }
      })();
      const window = await client.run(offered, seconds, collectIds);
      sampling = false;
      await sampler;
      const end = await waitingJobs(queue);
      samples.push([(performance.now() - start) / 1_000, end]);
      const tail = samples.filter(([t]) => t >= seconds * 0.4);
      return {
        window,
        backlog: { start: samples[0]?.[1] ?? 0, end, max: Math.max(...samples.map(([, n]) => n)), slope: slopeOf(tail) },
      };
    };
    const drainBacklog = async (what: string): Promise<number> => {
      const drainStart = performance.now();
      await client.drain();
      await waitFor(async () => (await queue.getJobCounts('wait', 'prioritized', 'active').then((c) => Object.values(c).reduce((a, b) => a + b, 0))) === 0, {
        timeoutMs: ctx.waitMs,
        intervalMs: 100,
        description: `the worker to drain ${what}`,
        abort,
      });
      return (performance.now() - drainStart) / 1_000;
    };
    const fromUs = monotonicUs();
    while (loadSeconds + stepS <= searchSeconds + 0.001) {
      const aborted = abort();
      if (aborted) throw new Error(`sustained: ${aborted}\n${worker.output()}\n${api.output()}`);
      const { window, backlog } = await runWatched(rate, stepS, false);
      const slope = backlog.slope;
      loadSeconds += stepS;
      const { tally } = window;
      tallies.push(tally);
      const reasons: string[] = [];
      if (tally.skipped > 0) reasons.push(`${tally.skipped} requests not sent (${config.sustainConnections * 4} in flight)`);
      if (tally.errors + tally.non2xx > 0) reasons.push(`${tally.non2xx} non-2xx, ${tally.errors} errors`);
      if (window.answeredInWindow < ANSWERED_SHARE * tally.sent) reasons.push(`API answered ${Math.round((100 * window.answeredInWindow) / Math.max(1, tally.sent))} % in time`);
      if (slope > Math.max(SLOPE_TOLERANCE * rate, SLOPE_FLOOR)) reasons.push(`backlog grows ${Math.round(slope)}/s`);
      firstProblem ??= tally.firstProblem;
      const sorted = [...tally.latencies].sort((a, b) => a - b);
      const step: SustainStep = {
        rate,
        seconds: window.seconds,
        sent: tally.sent,
        skipped: tally.skipped,
        answeredInWindow: window.answeredInWindow,
        non2xx: tally.non2xx,
        errors: tally.errors,
        backlogStart: backlog.start,
        backlogEnd: backlog.end,
        slope,
        flat: reasons.length === 0,
        reason: reasons.join('; '),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
      steps.push(step);
      log(`  step ${steps.length}: ${rate}/s → backlog ${step.backlogStart} → ${step.backlogEnd} (${Math.round(slope)}/s) ${step.flat ? 'flat' : `NOT flat: ${step.reason}`}`);
      if (step.flat) highestFlat = Math.max(highestFlat ?? 0, rate);
      else lowestGrowing = Math.min(lowestGrowing ?? Infinity, rate);
      if (lowestGrowing === undefined) rate = roundRate(rate * GROWTH);
      else if (highestFlat === undefined) rate = roundRate(rate / 2);
      else if (lowestGrowing / highestFlat <= PRECISION) break;
      else rate = roundRate(Math.sqrt(highestFlat * lowestGrowing));
      if (highestFlat !== undefined && lowestGrowing !== undefined && (rate <= highestFlat || rate >= lowestGrowing)) break;
      // A grown backlog keeps the worker saturated and takes CPU from the API on these two
      // cores: every step starts from an empty backlog (the wait is not part of BENCH_SUSTAIN_S).
      if (!step.flat) drainSeconds += await drainBacklog('the backlog of a growing step');
    }
    await client.drain();

    // ---- latency at half the highest flat rate, from an empty backlog ----
    const drainBeforeLatencyS = await drainBacklog('the backlog left by the rate search');
    drainSeconds += drainBeforeLatencyS;
    const latencyRate = roundRate((highestFlat ?? config.sustainStartRate) / 2);
    log(`sustained: submit→start latency at ${latencyRate} tasks/s (${latencySeconds} s)`);
    const groups = { ...ctx.cpuGroups, 'api process': [api.pid], 'taskq worker': [worker.pid] };
    const before = cpuSnapshot(groups);
    const { window, backlog: latencyBacklog } = await runWatched(latencyRate, latencySeconds, true);
    const cpu = cpuDelta(before, cpuSnapshot(groups));
    const profileWindow: Window = { fromUs, toUs: monotonicUs() };
    await client.drain();
    const { tally } = window;
    tallies.push(tally);
    firstProblem ??= tally.firstProblem;
    await ctx.analyze();
    // Every accepted task of the window has started (or the deadline says why not).
    await waitFor(
      async () => {
        const [row] = await ctx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM unnest($1::uuid[]) AS c(id) WHERE NOT EXISTS (SELECT 1 FROM task_attempts a WHERE a.task_id = c.id)`,
          [tally.ids],
        );
        return row?.n === 0;
      },
      { timeoutMs: Math.min(ctx.waitMs, 60_000), intervalMs: 250, description: 'every task of the latency window to start', abort },
    ).catch((error: unknown) => log(`sustained: ${(error as Error).message}`));
    const [latency] = await ctx.query<{
      n: number;
      not_started: number;
      db_p50: number | null;
      db_p99: number | null;
      db_max: number | null;
      client_p50: number | null;
      client_p99: number | null;
    }>(
      `WITH sent AS (SELECT * FROM unnest($1::uuid[], $2::float8[]) AS c(id, sent_ms)),
            firsts AS (
              SELECT s.id, s.sent_ms, t.created_at, (SELECT min(a.started_at) FROM task_attempts a WHERE a.task_id = s.id) AS started_at
                FROM sent s JOIN tasks t ON t.id = s.id),
            ms AS (
              SELECT extract(epoch FROM started_at - created_at) * 1000 AS db_ms,
                     extract(epoch FROM started_at) * 1000 - sent_ms AS client_ms
                FROM firsts WHERE started_at IS NOT NULL)
       SELECT (SELECT count(*)::int FROM ms) AS n,
              (SELECT count(*)::int FROM firsts WHERE started_at IS NULL) AS not_started,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY db_ms)::float8 AS db_p50,
              percentile_disc(0.99) WITHIN GROUP (ORDER BY db_ms)::float8 AS db_p99,
              max(db_ms)::float8 AS db_max,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY client_ms)::float8 AS client_p50,
              percentile_disc(0.99) WITHIN GROUP (ORDER BY client_ms)::float8 AS client_p99
         FROM ms`,
      [tally.ids, tally.sentAtMs],
    );
    const sorted = [...tally.latencies].sort((a, b) => a - b);

    // Consistency: everything accepted in the section is stored and, once drained, finished.
    await waitFor(async () => (await queue.getJobCounts('wait', 'prioritized', 'active').then((c) => Object.values(c).reduce((a, b) => a + b, 0))) === 0, {
      timeoutMs: ctx.waitMs,
      intervalMs: 100,
      description: 'the worker to drain the latency window',
      abort,
    });
    await sleep(500);
    const [rows] = await ctx.query<{ rows: number; unfinished: number }>(
      `SELECT count(*)::int AS rows, count(*) FILTER (WHERE status <> 'completed')::int AS unfinished FROM tasks`,
    );
    const apiExit = await api.stop();
    const workerExit = await worker.stop();
    // The probe task, then every answer with a 202.
    const totalAccepted = 1 + tallies.reduce((sum, t) => sum + t.accepted, 0);
    return {
      steps,
      highestFlatRate: highestFlat,
      lowestGrowingRate: lowestGrowing,
      latency: {
        rate: latencyRate,
        seconds: window.seconds,
        sent: tally.sent,
        accepted: tally.accepted,
        non2xx: tally.non2xx,
        errors: tally.errors,
        skipped: tally.skipped,
        maxLagMs: tally.maxLagMs,
        httpP50Ms: percentile(sorted, 50),
        httpP99Ms: percentile(sorted, 99),
        dbCount: latency?.n ?? 0,
        dbP50Ms: latency?.db_p50 ?? NaN,
        dbP99Ms: latency?.db_p99 ?? NaN,
        dbMaxMs: latency?.db_max ?? NaN,
        clientP50Ms: latency?.client_p50 ?? NaN,
        clientP99Ms: latency?.client_p99 ?? NaN,
        notStarted: latency?.not_started ?? NaN,
        cpu,
        backlog: latencyBacklog,
      },
      drainBeforeLatencyS,
      drainSeconds,
      searchSeconds: loadSeconds,
      latencySeconds,
      totalAccepted,
      rows: rows?.rows ?? NaN,
      unfinished: rows?.unfinished ?? NaN,
      firstProblem,
      apiExit,
      workerExit,
      apiOutput: api.output(),
      workerOutput: worker.output(),
      apiMemory: api.memory(),
      workerMemory: worker.memory(),
      apiProfile: api.profileFile,
      workerProfile: worker.profileFile,
      window: profileWindow,
    };
  } finally {
    await client.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await api.stop().catch(() => undefined);
    await worker.stop().catch(() => undefined);
  }
}
