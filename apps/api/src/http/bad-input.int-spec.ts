import { PROBLEM_JSON, countTasks } from '../tasks/testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

/**
 * Hostile or broken request bodies, one row per case, on every route that takes a body: each
 * gets its 4xx problem document and leaves nothing stored and nothing queued.
 */
const api = useApiHarness({ label: 'api_bad_input' });

const WRITE_ROUTES = ['/submit-task', '/tasks', '/tasks/bulk'] as const;

/** Wraps one task the way each route expects it. */
const bodyFor = (route: string, task: string): string => (route === '/tasks/bulk' ? `{"tasks":[${task}]}` : task);

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const countJobs = async (): Promise<number> => {
  let total = 0;
  for (const queue of api.producer.allQueues()) total += Object.values(await queue.getJobCounts()).reduce((sum, n) => sum + n, 0);
  return total;
};

interface BadInputCase {
  name: string;
  status: number;
  type: string;
  contentType?: string;
  contentEncoding?: string;
  /** The raw body sent, given the route it goes to. */
  body: (route: string) => string;
  detail?: RegExp;
}

const CASES: BadInputCase[] = [
  {
    name: 'a body over the limit (256 KiB, 5 MiB for bulk)',
    status: 413,
    type: '/problems/payload-too-large',
    body: (route) => bodyFor(route, `{"type":"noop","payload":{"note":"${'x'.repeat(route === '/tasks/bulk' ? 6 * 1_048_576 : 300 * 1024)}"}}`),
  },
  { name: 'a text/plain body', status: 415, type: '/problems/unsupported-media-type', contentType: 'text/plain', body: () => 'type=noop' },
  { name: 'a form body', status: 415, type: '/problems/unsupported-media-type', contentType: 'application/x-www-form-urlencoded', body: () => 'type=noop&payload=x' },
  { name: 'an XML body', status: 415, type: '/problems/unsupported-media-type', contentType: 'application/xml', body: () => '<task type="noop"/>' },
  { name: 'a gzip-encoded body', status: 415, type: '/problems/unsupported-media-type', contentEncoding: 'gzip', body: (route) => bodyFor(route, '{"type":"noop","payload":{}}'), detail: /Content-Encoding "gzip"/ },
  { name: 'malformed JSON', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"noop","payload":{'), detail: /Malformed JSON/ },
  { name: 'JSON nested deeper than the limit', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, `{"type":"webhook","payload":{"url":"https://example.com","body":${nested(40)}}}`), detail: /nested \d+ levels deep; at most 32/ },
  { name: 'pathologically deep JSON', status: 400, type: '/problems/invalid-json', body: () => nested(100_000) },
  { name: 'a NUL character in a string', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"noop","payload":{"note":"a\\u0000b"}}'), detail: /NUL character.*payload\.note/ },
  { name: 'a NUL character in a key', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"noop","payload":{"no\\u0000te":"x"}}'), detail: /NUL character/ },
  { name: 'a __proto__ key at the top', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"noop","payload":{},"__proto__":{"polluted":true}}'), detail: /"__proto__"/ },
  { name: 'a __proto__ key in the payload', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"noop","payload":{"__proto__":{"polluted":true}}}'), detail: /"__proto__" is not allowed \(at .*payload\.__proto__\)/ },
  { name: 'a constructor key', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"noop","payload":{"constructor":{"prototype":{"polluted":true}}}}'), detail: /"constructor"/ },
  { name: 'a prototype key', status: 400, type: '/problems/invalid-json', body: (route) => bodyFor(route, '{"type":"webhook","payload":{"url":"https://example.com","body":{"prototype":{"polluted":true}}}}'), detail: /"prototype"/ },
  { name: 'an unknown top-level field', status: 400, type: '/problems/validation-error', body: (route) => bodyFor(route, '{"type":"noop","payload":{},"colour":"red"}') },
  { name: 'an unknown payload field', status: 400, type: '/problems/validation-error', body: (route) => bodyFor(route, '{"type":"noop","payload":{"colour":"red"}}') },
  { name: 'a JSON array instead of an object', status: 400, type: '/problems/validation-error', body: () => '[{"type":"noop","payload":{}}]' },
  { name: 'a bare JSON string', status: 400, type: '/problems/validation-error', body: () => '"noop"' },
];

describe.each(WRITE_ROUTES)('POST %s refuses', (route) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const rowsBefore = await countTasks(api.db.url);
    const jobsBefore = await countJobs();

    const headers = {
      'content-type': testCase.contentType ?? 'application/json',
      ...(testCase.contentEncoding ? { 'content-encoding': testCase.contentEncoding } : {}),
    };
    const response = await api.app.inject({ method: 'POST', url: route, payload: testCase.body(route), headers });

    expect(response.statusCode).toBe(testCase.status);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    const problem = response.json<{ type: string; status: number; detail: string }>();
    expect(problem).toMatchObject({ type: testCase.type, status: testCase.status, title: expect.any(String), detail: expect.any(String) });
    if (testCase.detail) expect(problem.detail).toMatch(testCase.detail);
    expect(JSON.stringify(problem)).not.toMatch(/\bat .*\.(js|ts):\d+|SELECT|INSERT/);
    expect(await countTasks(api.db.url)).toBe(rowsBefore);
    expect(await countJobs()).toBe(jobsBefore);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('what the limits still let through', () => {
  it('takes a bulk body over the single-request limit (up to BULK_BODY_LIMIT_BYTES)', async () => {
    const tasks = Array.from({ length: 400 }, (_, i) => ({ type: 'noop', payload: { note: `${i}`.padEnd(900, '.') } }));
    const payload = JSON.stringify({ tasks });
    expect(payload.length).toBeGreaterThan(256 * 1024);
    const response = await api.app.inject({ method: 'POST', url: '/tasks/bulk', payload, headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(202);
    expect(response.json<{ count: number }>().count).toBe(400);
  });

  it('takes JSON nested to the limit and application/json with a charset', async () => {
    const body = `{"type":"webhook","payload":{"url":"https://example.com","body":${nested(29)}}}`;
    const response = await api.app.inject({ method: 'POST', url: '/submit-task', payload: body, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(response.statusCode).toBe(202);
  });
});
