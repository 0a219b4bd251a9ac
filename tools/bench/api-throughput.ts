/**
 * API throughput: autocannon POSTs `{ "type": "noop", "payload": {} }` to /submit-task.
 * The same load runs against the real API process and against a bare Nest/Fastify app.
 */
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { createRedisConnection, queueNameFor } from '@taskq/queue';
import { BENCH_API_KEY, databaseCounters, log, type BenchContext } from './context';
import { jobsInQueue } from './task-jobs';
import { cpuDelta, cpuSnapshot, freePort, monotonicUs, sleep, startNode, waitFor, waitForHttp, type CpuGroups, type ProcessMemory, type Window } from './support';

export interface HttpRunResult {
  label: string;
  durationS: number;
  requestsPerSecondMean: number;
  /** Responses received / elapsed seconds. */
  requestsPerSecondOverall: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  responses: number;
  /** Requests written but not answered when autocannon stopped. */
  unanswered: number;
  status202: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Ids from the 202 answers (only when asked for). */
  acceptedIds: string[];
  cpu: Record<string, number>;
}

export const SUBMIT_BODY = JSON.stringify({ type: 'noop', payload: {} });

export async function loadTest(
  label: string,
  baseUrl: string,
  options: { connections: number; durationS: number; collectIds: boolean; cpuGroups: CpuGroups },
): Promise<HttpRunResult> {
  const acceptedIds: string[] = [];
  const before = cpuSnapshot(options.cpuGroups);
  const result = await autocannon({
    url: `${baseUrl}/submit-task`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
    body: SUBMIT_BODY,
    connections: options.connections,
    duration: options.durationS,
    // Called for every complete response: keeps the ids of accepted tasks for the row check.
    verifyBody: options.collectIds
      ? (body) => {
          try {
            const parsed = JSON.parse(String(body)) as { id?: unknown; status?: unknown };
            if (typeof parsed.id === 'string' && parsed.status === 'queued') acceptedIds.push(parsed.id);
          } catch {
            // not JSON (an error page): counted through the status codes
          }
          return true;
        }
      : undefined,
  });
  const cpu = cpuDelta(before, cpuSnapshot(options.cpuGroups));
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    label,
    durationS: result.duration,
    requestsPerSecondMean: result.requests.mean,
    requestsPerSecondOverall: responses / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    responses,
    unanswered: Math.max(0, result.requests.sent - responses),
    status202: statusCodes['202'] ?? 0,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    acceptedIds,
    cpu,
  };
}

export interface ApiPhase {
  real: HttpRunResult;
  bare: HttpRunResult;
  warmup202: number;
  measuredRowDelta: number;
  missingIds: number;
  apiRows: number;
  apiJobsInRedis: number;
  /** Commits in the bench database from the API's start to its stop (warm-up and run), minus the bench's own. */
  commits: number | null;
  apiExit: string;
  bareExit: string;
  apiOutput: string;
  apiMemory: ProcessMemory;
  bareMemory: ProcessMemory;
  apiProfile: string | undefined;
  bareProfile: string | undefined;
  /** The measured runs, for cutting the profiles. */
  apiWindow: Window;
  bareWindow: Window;
}

/** The real API, then the bare app, under the same autocannon load; then the row and job checks. */
export async function benchApi(ctx: BenchContext, prefix: string): Promise<ApiPhase> {
  const { config } = ctx;
  log('starting the taskq API');
  const { app: api, url: apiUrl } = await ctx.startApi('api', prefix);
  await sleep(300);
  const stream = config.eventsStream ? await openEventCounter(`${apiUrl}/events`) : undefined;
  const ownBefore = ctx.ownQueries();
  const countersBefore = await databaseCounters(ctx.databaseUrl);

  const barePort = await freePort();
  const bareApp = startNode('bare nest app', 'dist/tools/bench/bare-app.js', { PORT: String(barePort), HOST: '127.0.0.1' }, 'api-bare-app');
  ctx.children.push(bareApp);
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await waitForHttp(`${bareUrl}/health`, bareApp, Math.min(ctx.waitMs, 60_000));

  const countRows = async (): Promise<number> => Number((await ctx.query<{ n: string }>('SELECT count(*)::text AS n FROM tasks'))[0]?.n);
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
      { timeoutMs: Math.min(ctx.waitMs, 30_000), intervalMs: 200, description: 'the tasks row count to settle' },
    );
  };

  const load = { connections: config.connections, cpuGroups: ctx.cpuGroups };
  let warmup202 = 0;
  if (config.warmupS > 0) {
    log(`warming up the taskq API (${config.warmupS} s)`);
    warmup202 = (await loadTest('warm-up', apiUrl, { ...load, durationS: config.warmupS, collectIds: false })).status202;
  }
  const rowsBefore = await settledRows();
  log(`POST /submit-task on the taskq API: ${config.connections} connections, ${config.durationS} s`);
  const apiFrom = monotonicUs();
  const real = await loadTest('taskq API', apiUrl, {
    ...load,
    durationS: config.durationS,
    collectIds: true,
    cpuGroups: { ...ctx.cpuGroups, 'api process': [api.pid] },
  });
  const apiWindow: Window = { fromUs: apiFrom, toUs: monotonicUs() };
  if (stream) log(`the /events stream received ${stream.close()} events during the section`);
  const rowsAfter = await settledRows();
  await ctx.analyze();
  const missingIds = Number(
    (
      await ctx.query<{ n: string }>(`SELECT count(*)::text AS n FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.id)`, [
        real.acceptedIds,
      ])
    )[0]?.n,
  );
  const apiConnection = createRedisConnection(config.redisUrl, 'worker');
  const apiQueue = new Queue(queueNameFor('noop'), { connection: apiConnection, prefix });
  apiQueue.on('error', () => undefined);
  let apiJobsInRedis: number;
  try {
    apiJobsInRedis = await jobsInQueue(apiQueue);
  } finally {
    await apiQueue.close().catch(() => undefined);
    apiConnection.disconnect();
  }

  if (config.warmupS > 0) {
    log(`warming up the bare Nest app (${config.warmupS} s)`);
    await loadTest('warm-up', bareUrl, { ...load, durationS: config.warmupS, collectIds: false });
  }
  log(`POST /submit-task on the bare Nest app: ${config.connections} connections, ${config.durationS} s`);
  const bareFrom = monotonicUs();
  const bare = await loadTest('bare Nest/Fastify app', bareUrl, {
    ...load,
    durationS: config.durationS,
    collectIds: false,
    cpuGroups: { ...ctx.cpuGroups, 'api process': [bareApp.pid] },
  });
  const bareWindow: Window = { fromUs: bareFrom, toUs: monotonicUs() };

  const apiExit = await api.stop();
  const bareExit = await bareApp.stop();
  // The API's backends have exited, so their statistics are in pg_stat_database.
  await sleep(500);
  const countersAfter = await databaseCounters(ctx.databaseUrl);
  // The bench's own statements in between (row counts, the id check) and the two counter reads.
  const own = ctx.ownQueries() - ownBefore + 4;
  const commits = Number.isFinite(countersAfter.commits - countersBefore.commits) ? countersAfter.commits - countersBefore.commits - own : null;
  return {
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
    apiMemory: api.memory(),
    bareMemory: bareApp.memory(),
    apiProfile: api.profileFile,
    bareProfile: bareApp.profileFile,
    apiWindow,
    bareWindow,
  };
}

/** A live `GET /events` reader that only counts the events it receives. */
async function openEventCounter(url: string): Promise<{ close(): number }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${BENCH_API_KEY}`, accept: 'text/event-stream' }, signal: controller.signal });
  if (response.status !== 200 || !response.body) throw new Error(`GET /events answered ${response.status}`);
  let events = 0;
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) events += (decoder.decode(chunk, { stream: true }).match(/^data: /gm) ?? []).length;
    } catch {
      // closed
    }
  })();
  return {
    close: () => {
      controller.abort();
      return events;
    },
  };
}
