import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { DeadLetterMirror, ScheduleQueue, TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix } from '@taskq/testing';
import { PROBLEM_JSON, send, startApi } from '../tasks/testing/test-apps';
import {
  bodies,
  encodeText,
  headers,
  keyPrefixParam,
  queryString,
  scheduleNameParam,
  strayBodies,
  taskIdParam,
  validBulk,
  validKey,
  validSchedule,
  validSchedulePatch,
  validSignIn,
  validTask,
  type FuzzRequest,
  type PathParam,
  type Pool,
} from './testing/fuzz-arbitraries';
import { StoreWatch } from './testing/store-watch';

/**
 * Generated and mutated requests to every write route of the API, thousands per route: no
 * answer is a 5xx, every error is a problem document without a stack trace or SQL, and a
 * refused request changes nothing in PostgreSQL or Redis.
 *
 * Route number i (0-based, in FUZZERS order) runs with seed FUZZ_SEED + i. A failure shows
 * fast-check's seed and path; replay it with that route alone:
 *   FUZZ_SEED=<printed seed - i> FUZZ_PATH=<printed path> npx jest write-routes.fuzz -t '<route>'
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_123);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 5_000);
const PATH = process.env['FUZZ_PATH'];

const BODY_LIMIT = 256 * 1024;
const BULK_BODY_LIMIT = 5 * 1024 * 1024;

interface RouteFuzzer {
  /** One per `:param` of the route. */
  params: Array<fc.Arbitrary<PathParam>>;
  body: fc.Arbitrary<string | undefined>;
  query?: fc.Arbitrary<string>;
}

/** Every write route, keyed `METHOD /path` as registered. A new write route fails the coverage test until it is listed here. */
const FUZZERS: Record<string, RouteFuzzer> = {
  'POST /submit-task': { params: [], body: bodies(validTask, BODY_LIMIT) },
  'POST /tasks': { params: [], body: bodies(validTask, BODY_LIMIT) },
  'POST /tasks/bulk': { params: [], body: bodies(validBulk, BULK_BODY_LIMIT) },
  'POST /tasks/:id/retry': { params: [taskIdParam], body: strayBodies(BODY_LIMIT) },
  'POST /tasks/:id/cancel': { params: [taskIdParam], body: strayBodies(BODY_LIMIT) },
  'POST /dlq/:id/requeue': { params: [taskIdParam], body: strayBodies(BODY_LIMIT) },
  'POST /dlq/requeue': { params: [], body: strayBodies(BODY_LIMIT), query: queryString() },
  'DELETE /dlq/:id': { params: [taskIdParam], body: strayBodies(BODY_LIMIT) },
  'DELETE /dlq': { params: [], body: strayBodies(BODY_LIMIT), query: queryString() },
  'POST /schedules': { params: [], body: bodies(validSchedule, BODY_LIMIT) },
  'PATCH /schedules/:name': { params: [scheduleNameParam], body: bodies(validSchedulePatch, BODY_LIMIT) },
  'DELETE /schedules/:name': { params: [scheduleNameParam], body: strayBodies(BODY_LIMIT) },
  'POST /schedules/:name/pause': { params: [scheduleNameParam], body: strayBodies(BODY_LIMIT) },
  'POST /schedules/:name/resume': { params: [scheduleNameParam], body: strayBodies(BODY_LIMIT) },
  'POST /schedules/:name/run': { params: [scheduleNameParam], body: strayBodies(BODY_LIMIT) },
  'POST /keys': { params: [], body: bodies(validKey, BODY_LIMIT) },
  'DELETE /keys/:prefix': { params: [keyPrefixParam], body: strayBodies(BODY_LIMIT) },
  'POST /signing-secret/rotate': { params: [], body: strayBodies(BODY_LIMIT), query: queryString(['tenant']) },
  'POST /auth/session': { params: [], body: bodies(validSignIn, BODY_LIMIT) },
  'DELETE /auth/session': { params: [], body: strayBodies(BODY_LIMIT) },
};

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Bull Board's routes have their own authentication and their own tests (board-auth.int-spec.ts). */
const isBoardRoute = (url: string): boolean => url === '/admin/queues' || url.startsWith('/admin/queues/');

const db = testDatabase('api_fuzz');
const prefix = uniquePrefix('api-fuzz');
const registered = new Set<string>();
let app: NestFastifyApplication;
let redis: Redis;
let producer: TaskProducer;
let deadLetters: DeadLetterMirror;
let schedules: ScheduleQueue;
let watch: StoreWatch;
/** The stores' fingerprint after the last request that was allowed to change them. */
let settled: string;

/** What path parameters may name: created before the fuzzing or by accepted requests. */
const pools: Record<Pool, string[]> = { task: [], schedule: [], key: [] };
/** Everything the server may hold at the end: what it was given at the start and what accepted requests created. */
const created: Record<Pool, Set<string>> = { task: new Set(), schedule: new Set(), key: new Set() };
const stats = new Map<string, { requests: number; ms: number; checkMs: number; statuses: Map<number, number> }>();

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).join();
/**
 * Server internals that must never reach a client. A stack frame names its file and line: a
 * detail that quotes the caller's own JSON key ("(at . ()") is not one.
 */
const LEAKS = /\n\s+at |\bat [\w.<>]+ \([^)]*:\d+|node_modules|\.[jt]s:\d+:\d+|QueryFailedError|TypeORM|syntax error at or near|violates .* constraint|invalid input syntax for|relation "|column "|duplicate key value|ioredis|ReplyError|ECONNREFUSED/;

beforeAll(async () => {
  app = await startApi(db.url, prefix, { RATE_LIMIT_REQUESTS: '0', MAX_BACKLOG: '0' }, (nest) => {
    nest.getHttpAdapter().getInstance().addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.add(`${method} ${route.url ?? route.path}`);
    });
  });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  producer = new TaskProducer(redis, prefix);
  deadLetters = new DeadLetterMirror(redis, prefix);
  schedules = new ScheduleQueue(redis, prefix);
  await seed();
  watch = await StoreWatch.install(db.url, redis, [...producer.allQueues(), deadLetters.queue, schedules.queue]);
  settled = await watch.fingerprint();
}, 60_000);

afterAll(async () => {
  const lines = [...stats].map(([route, s]) => `${route.padEnd(26)} ${String(s.requests).padStart(6)} requests ${(s.ms / 1_000).toFixed(1).padStart(6)} s (+${(s.checkMs / 1_000).toFixed(1)} s checking the stores)  ${[...s.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ')}`);
  const requests = [...stats.values()].reduce((sum, s) => sum + s.requests, 0);
  const seconds = [...stats.values()].reduce((sum, s) => sum + s.ms, 0) / 1_000;
  console.log(`write-route fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}: ${requests} requests in ${seconds.toFixed(1)} s\n${lines.join('\n')}`);
  await watch?.close();
  await schedules?.close();
  await deadLetters?.close();
  await producer?.close();
  redis?.disconnect();
  await app?.close();
  await deleteRedisPrefix(prefix);
  await db.drop();
});

/** Tasks in every state a write route cares about, schedules and keys, for path parameters to name. */
async function seed(): Promise<void> {
  for (let i = 0; i < 24; i++) {
    const response = await send(app, 'POST', '/tasks', { type: i % 2 ? 'noop' : 'sleep', payload: i % 2 ? {} : { ms: 10 }, ...(i % 3 === 0 ? { delayMs: 3_600_000 } : {}) });
    remember('task', response.json<{ id: string }>().id);
  }
  for (const id of pools.task.slice(0, 6)) expect((await send(app, 'POST', `/tasks/${id}/cancel`)).statusCode).toBe(200);
  // No worker runs here: the DLQ gets its dead tasks the way a worker would leave them in PostgreSQL.
  await queryDatabase(db.url, `UPDATE tasks SET status = 'dead', finished_at = now(), last_error = 'seeded', updated_at = now() WHERE id = ANY($1::uuid[])`, [pools.task.slice(6, 14)]);
  for (const [i, cron] of ['0 3 * * *', '*/5 * * * *', '@daily'].entries()) {
    const response = await send(app, 'POST', '/schedules', { name: `seeded-${i}`, cron, type: 'noop', payload: {}, enabled: i !== 2 });
    expect(response.statusCode).toBe(201);
    remember('schedule', `seeded-${i}`);
  }
  for (const scopes of [['tasks:read'], ['tasks:write'], ['admin']]) {
    const response = await send(app, 'POST', '/keys', { name: `seeded-${scopes[0]?.replace(':', '-')}`, scopes });
    remember('key', response.json<{ prefix: string }>().prefix);
  }
}

function remember(pool: Pool, value: string): void {
  if (!created[pool].has(value)) pools[pool].push(value);
  created[pool].add(value);
}

function urlOf(route: string, request: FuzzRequest): string {
  let index = 0;
  const path = route.replace(/:\w+/g, () => {
    const param = request.params[index++] as PathParam;
    if ('literal' in param) return param.literal;
    const pool = pools[param.known];
    return encodeText(pool[param.index % pool.length] ?? 'none');
  });
  return request.query === '' ? path : `${path}?${request.query}`;
}

/** Notes what an accepted request created, so the final check knows what may exist. */
function recordCreations(route: string, response: LightMyRequestResponse): void {
  if (route === 'POST /submit-task' || route === 'POST /tasks' || route === 'POST /schedules/:name/run') remember('task', response.json<{ id: string }>().id);
  if (route === 'POST /tasks/bulk') for (const task of response.json<{ tasks: Array<{ id: string }> }>().tasks) remember('task', task.id);
  if (route === 'POST /schedules') remember('schedule', response.json<{ name: string }>().name);
  if (route === 'POST /keys') remember('key', response.json<{ prefix: string }>().prefix);
}

const describeRequest = (method: string, url: string, request: FuzzRequest, response: LightMyRequestResponse): string =>
  `${method} ${url.slice(0, 300)}\nheaders: ${JSON.stringify(request.headers)}\nbody: ${JSON.stringify(request.body)?.slice(0, 500)}\n→ ${response.statusCode} ${response.headers['content-type']}\n${response.body.slice(0, 1_000)}`;

/** The answer's own rules: no 5xx; every error a complete problem document that leaks nothing. */
function checkAnswer(response: LightMyRequestResponse, context: () => string): void {
  const fail = (why: string): never => {
    throw new Error(`${why}\n${context()}`);
  };
  if (response.statusCode >= 500) fail('a 5xx answer');
  if (response.statusCode < 400) return;
  if (!PROBLEM_JSON.test(String(response.headers['content-type']))) fail('an error that is not application/problem+json');
  let problem: Record<string, unknown>;
  try {
    problem = response.json<Record<string, unknown>>();
  } catch {
    return fail('a problem document that is not JSON');
  }
  const { type, title, status, detail, errors } = problem;
  if (typeof type !== 'string' || !type.startsWith('/problems/')) fail('a problem without a /problems/ type');
  if (typeof title !== 'string' || title === '') fail('a problem without a title');
  if (status !== response.statusCode) fail('a problem whose status is not the HTTP status');
  if (typeof detail !== 'string' || detail === '') fail('a problem without a detail');
  if (type === '/problems/validation-error') {
    const valid = Array.isArray(errors) && errors.every((error: { field?: unknown; messages?: unknown }) => typeof error.field === 'string' && Array.isArray(error.messages));
    if (!valid) fail('a validation problem without errors[] of { field, messages }');
  }
  if (LEAKS.test(response.body)) fail('a problem that shows server internals (stack trace, SQL, driver)');
}

async function fuzz(route: string, request: FuzzRequest): Promise<void> {
  const [method = 'POST', pattern = '/'] = route.split(' ');
  const url = urlOf(pattern, request);
  const started = performance.now();
  const response = await app.inject({
    method: method as 'POST' | 'PATCH' | 'DELETE',
    url,
    headers: request.headers,
    ...(request.body === undefined ? {} : { payload: request.body }),
  });
  const entry = stats.get(route) ?? { requests: 0, ms: 0, checkMs: 0, statuses: new Map<number, number>() };
  entry.requests++;
  entry.ms += performance.now() - started;
  entry.statuses.set(response.statusCode, (entry.statuses.get(response.statusCode) ?? 0) + 1);
  stats.set(route, entry);
  const context = (): string => describeRequest(method, url, request, response);

  checkAnswer(response, context);
  if (Object.getOwnPropertyNames(Object.prototype).join() !== PROTOTYPE_NAMES || ({} as Record<string, unknown>)['polluted'] !== undefined) {
    throw new Error(`Object.prototype was changed\n${context()}`);
  }
  const checking = performance.now();
  const now = await watch.fingerprint();
  entry.checkMs += performance.now() - checking;
  if (response.statusCode >= 400 && now !== settled) throw new Error(`a refused request changed the stores:\nbefore: ${settled}\nafter:  ${now}\n${context()}`);
  if (response.statusCode < 300) recordCreations(route, response);
  settled = now;
}

it('has a generator for every write route the API registers, and none for a route it does not have', () => {
  const writeRoutes = [...registered].filter((route) => WRITE_METHODS.has(route.split(' ')[0] ?? '') && !isBoardRoute(route.split(' ')[1] ?? ''));
  expect(writeRoutes.filter((route) => !(route in FUZZERS))).toEqual([]);
  expect(Object.keys(FUZZERS).filter((route) => !registered.has(route))).toEqual([]);
});

describe.each(Object.keys(FUZZERS).map((route, index) => [route, index] as const))('%s', (route, index) => {
  it(`answers ${RUNS} generated and mutated requests without a 5xx, with problem documents, storing nothing it refuses`, async () => {
    const fuzzer = FUZZERS[route] as RouteFuzzer;
    const request: fc.Arbitrary<FuzzRequest> = fc
      .tuple(fc.tuple(...fuzzer.params), fuzzer.query ?? queryString(['limit']), fuzzer.body, headers(true), headers(false))
      .map(([params, query, body, withBody, withoutBody]) => ({ params, query, body, headers: body === undefined ? withoutBody : withBody }));
    await fc.assert(
      fc.asyncProperty(request, (generated) => fuzz(route, generated)),
      { seed: SEED + index, numRuns: RUNS, ...(PATH ? { path: PATH, endOnFailure: true } : {}) },
    );
  }, 600_000);
});

describe('after the fuzzing', () => {
  it('holds only what accepted requests created, and no job without its task', async () => {
    const tasks = await queryDatabase<{ id: string; status: string }>(db.url, 'SELECT id, status FROM tasks');
    expect(tasks.filter((task) => !created.task.has(task.id))).toEqual([]);
    const ids = new Set(tasks.map((task) => task.id));
    const jobIds = (await Promise.all(producer.allQueues().map((queue) => queue.getRanges(['wait', 'prioritized', 'delayed', 'active', 'completed', 'failed'], 0, -1)))).flat();
    expect(jobIds.filter((id) => !ids.has(id))).toEqual([]);
    const queued = tasks.filter((task) => task.status === 'queued' || task.status === 'delayed').map((task) => task.id);
    const jobs = new Set(jobIds);
    expect(queued.filter((id) => !jobs.has(id))).toEqual([]);

    const scheduleRows = await queryDatabase<{ name: string; enabled: boolean }>(db.url, 'SELECT name, enabled FROM schedules');
    expect(scheduleRows.filter((row) => !created.schedule.has(row.name))).toEqual([]);
    const schedulers = await schedules.queue.getJobSchedulers(0, -1);
    expect(schedulers.map((scheduler) => scheduler.key).sort()).toEqual(scheduleRows.filter((row) => row.enabled).map((row) => row.name).sort());

    const keys = await queryDatabase<{ prefix: string }>(db.url, 'SELECT prefix FROM api_keys');
    expect(keys.filter((key) => !created.key.has(key.prefix))).toEqual([]);
  });
});
