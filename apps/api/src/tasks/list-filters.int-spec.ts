import type { LightMyRequestResponse } from 'fastify';
import { TASK_TYPE_NAMES, type CreatedApiKeyView, type SubmitTaskResponse, type TaskPage } from '@taskq/contracts';
import { queryDatabase } from '@taskq/testing';
import { useApiHarness } from '../testing/api-harness';
import { PROBLEM_JSON } from './testing/test-apps';

/**
 * `GET /tasks` filters: creation time (`from`, `to`), search by id or idempotency key (`q`),
 * tenant (admin keys), and the type, each with cursor pages that stay correct.
 */
const api = useApiHarness({ label: 'api_list_filters' });

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; messages: string[] }>;
}

/** A request with `key` (the harness's own requests carry the bootstrap admin key). */
function get(url: string, key?: string): Promise<LightMyRequestResponse> {
  return api.app.inject({ method: 'GET', url, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });
}

async function createKey(name: string, scopes: string[], tenant: string): Promise<string> {
  const response = await api.app.inject({ method: 'POST', url: '/keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name, scopes, tenant }) });
  expect(response.statusCode).toBe(201);
  return response.json<CreatedApiKeyView>().key;
}

async function submit(key: string, body: Record<string, unknown> = { type: 'noop', payload: {} }, idempotencyKey?: string): Promise<string> {
  const response = await api.app.inject({
    method: 'POST',
    url: '/tasks',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    payload: JSON.stringify(body),
  });
  expect(response.statusCode).toBe(202);
  return response.json<SubmitTaskResponse>().id;
}

/** Every page of a listing, following the cursors: the ids in order, and how many pages it took. */
async function allPages(url: string, key?: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const response = await get(`${url}${cursor ? `&cursor=${cursor}` : ''}`, key);
    expect(response.statusCode).toBe(200);
    const page: TaskPage = response.json<TaskPage>();
    ids.push(...page.items.map((item) => item.id));
    pages += 1;
    cursor = page.nextCursor;
  } while (cursor);
  return { ids, pages };
}

const ids = (response: LightMyRequestResponse): string[] => response.json<TaskPage>().items.map((item) => item.id);

/** A whole minute a month ago: before every task the tests submit. */
const BASE = Math.floor((Date.now() - 30 * 86_400_000) / 60_000) * 60_000;
const minute = (n: number): string => new Date(BASE + n * 60_000).toISOString();
/** The same instant written with a +01:00 offset. */
const minuteAtPlusOne = (n: number): string => new Date(BASE + n * 60_000 + 3_600_000).toISOString().replace('.000Z', '+01:00');

let acme: string;
let acmeReader: string;
let globex: string;
/** Acme's tasks created at minute 0, 1, … 5 after BASE, oldest first. */
const timed: string[] = [];

beforeAll(async () => {
  acme = await createKey('acme-ci', ['tasks:write', 'tasks:read'], 'acme');
  acmeReader = await createKey('acme-dashboard', ['tasks:read'], 'acme');
  globex = await createKey('globex-ci', ['tasks:write', 'tasks:read'], 'globex');
  for (let i = 0; i < 6; i++) timed.push(await submit(acme, { type: i % 2 ? 'sleep' : 'noop', payload: i % 2 ? { ms: 1 } : {} }));
  // Creation times far from now and from every other task of this file.
  for (const [i, id] of timed.entries()) await queryDatabase(api.db.url, 'UPDATE tasks SET created_at = $2 WHERE id = $1', [id, minute(i)]);
});

describe('from and to', () => {
  it('bound the creation time: from inclusive, to exclusive, newest first', async () => {
    const response = await get(`/tasks?from=${minute(1)}&to=${minute(4)}`);
    expect(response.statusCode).toBe(200);
    expect(ids(response)).toEqual([timed[3], timed[2], timed[1]]);
    expect(ids(await get(`/tasks?from=${minute(4)}&limit=100`))).toEqual(expect.arrayContaining([timed[4], timed[5]]));
    expect(ids(await get(`/tasks?from=${minute(4)}&limit=100`))).not.toContain(timed[3]);
    expect(ids(await get(`/tasks?to=${minute(2)}`))).toEqual([timed[1], timed[0]]);
  });

  it('keep cursor pages correct: every task once, in order, with the other filters', async () => {
    const window = `from=${minute(0)}&to=${minute(6)}`;
    expect(await allPages(`/tasks?${window}&limit=2`)).toEqual({ ids: [...timed].reverse(), pages: 3 });
    expect(await allPages(`/tasks?${window}&type=noop&limit=1`)).toEqual({ ids: [timed[4], timed[2], timed[0]], pages: 3 });
    expect(await allPages(`/tasks?${window}&status=queued&limit=4`, acmeReader)).toEqual({ ids: [...timed].reverse(), pages: 2 });
  });

  it('read a time without a zone as UTC, and accept other offsets', async () => {
    expect(ids(await get(`/tasks?from=${minute(1).replace('Z', '')}&to=${minute(2).replace('.000Z', '')}`))).toEqual([timed[1]]);
    expect(ids(await get(`/tasks?from=${encodeURIComponent(minuteAtPlusOne(1))}&to=${encodeURIComponent(minuteAtPlusOne(2))}`))).toEqual([timed[1]]);
  });

  it.each<[string, string, string]>([
    ['a time that is no date', 'from=yesterday', 'from'],
    ['an impossible date', 'to=2026-02-30T00:00:00Z', 'to'],
    ['an ISO week date JavaScript cannot read', 'from=2026-W09-7', 'from'],
    ['a signed year JavaScript misreads', 'from=-9999-01-01', 'from'],
    ['a year PostgreSQL refuses', 'to=0000-01-01T00:00:00Z', 'to'],
    ['to not after from', `from=${minute(3)}&to=${minute(3)}`, 'to'],
    ['to before from', `from=${minute(3)}&to=${minute(1)}`, 'to'],
  ])('refuse %s with a 400 naming the field', async (_case, query, field) => {
    const response = await get(`/tasks?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<Problem>().errors?.map((error) => error.field)).toEqual([field]);
  });
});

describe('q', () => {
  it('finds a task by its id, and by its idempotency key, exactly', async () => {
    const keyed = await submit(acme, { type: 'noop', payload: {} }, 'invoice-2026-0042');
    expect(ids(await get(`/tasks?q=${keyed}`))).toEqual([keyed]);
    expect(ids(await get(`/tasks?q=${keyed.toUpperCase()}`))).toEqual([keyed]);
    expect(ids(await get('/tasks?q=invoice-2026-0042'))).toEqual([keyed]);
    expect(ids(await get('/tasks?q=invoice-2026-004'))).toEqual([]);
    expect(ids(await get('/tasks?q=INVOICE-2026-0042'))).toEqual([]);
    expect(ids(await get(`/tasks?q=${timed[0]}&status=queued&type=noop`))).toEqual([timed[0]]);
    expect(ids(await get(`/tasks?q=${timed[0]}&status=completed`))).toEqual([]);
    expect(ids(await get(`/tasks?q=${timed[0]}&from=${minute(1)}`))).toEqual([]);
  });

  it("finds each tenant's task under a key both used; a tenant finds only its own", async () => {
    const acmeTask = await submit(acme, { type: 'noop', payload: {} }, 'shared-key-7');
    const globexTask = await submit(globex, { type: 'noop', payload: {} }, 'shared-key-7');
    // A key that is also a task id (the SDK's keys are UUIDs): both match.
    const lookalike = await submit(globex, { type: 'noop', payload: {} }, acmeTask);

    expect(new Set(ids(await get('/tasks?q=shared-key-7')))).toEqual(new Set([acmeTask, globexTask]));
    expect(ids(await get('/tasks?q=shared-key-7', acmeReader))).toEqual([acmeTask]);
    expect(ids(await get('/tasks?q=shared-key-7&tenant=globex'))).toEqual([globexTask]);
    expect(new Set(ids(await get(`/tasks?q=${acmeTask}`)))).toEqual(new Set([acmeTask, lookalike]));
    expect(ids(await get(`/tasks?q=${acmeTask}`, acmeReader))).toEqual([acmeTask]);
    expect(ids(await get(`/tasks?q=${acmeTask}`, globex))).toEqual([lookalike]);
    expect(await allPages('/tasks?q=shared-key-7&limit=1')).toMatchObject({ pages: 2 });
  });

  it('refuses a q longer than an idempotency key', async () => {
    const response = await get(`/tasks?q=${'k'.repeat(201)}`);
    expect(response.statusCode).toBe(400);
    expect(response.json<Problem>().errors?.map((error) => error.field)).toEqual(['q']);
  });
});

describe('tenant', () => {
  it("gives an admin key one tenant's tasks", async () => {
    const globexTask = await submit(globex);
    const acmeOnly = await allPages('/tasks?tenant=acme&limit=100');
    expect(acmeOnly.ids).toEqual(expect.arrayContaining(timed));
    expect(acmeOnly.ids).not.toContain(globexTask);
    expect(ids(await get('/tasks?tenant=globex&limit=100'))).toContain(globexTask);
    expect(ids(await get('/tasks?tenant=nobody'))).toEqual([]);
  });

  it('lets another key name only its own tenant: any other is a 403', async () => {
    expect(ids(await get(`/tasks?tenant=acme&from=${minute(0)}&to=${minute(6)}&limit=100`, acmeReader))).toEqual([...timed].reverse());
    const response = await get('/tasks?tenant=globex', acmeReader);
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<Problem>()).toMatchObject({ type: '/problems/forbidden', detail: expect.stringContaining('Only admin keys may read other tenants') });
  });

  it('refuses a malformed tenant', async () => {
    const response = await get('/tasks?tenant=..%2Fetc');
    expect(response.statusCode).toBe(400);
    expect(response.json<Problem>().errors?.map((error) => error.field)).toEqual(['tenant']);
  });
});

describe('type', () => {
  it('refuses an unknown type with a 400 naming the valid ones', async () => {
    const response = await get('/tasks?type=fax');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<Problem>().errors).toEqual([{ field: 'type', messages: [`type must be one of: ${TASK_TYPE_NAMES.join(', ')}`] }]);
  });

  it('refuses a type given twice', async () => {
    expect((await get('/tasks?type=noop&type=sleep')).statusCode).toBe(400);
  });
});
