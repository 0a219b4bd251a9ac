import { Validator } from '@seriousme/openapi-schema-validator';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ApiConfig, loadConfig } from '@taskq/config';
import { ApiKeyScope, TASK_TYPE_NAMES, getTaskType, type TaskTypeView } from '@taskq/contracts';
import { TEST_API_KEY, TEST_REDIS_URL, deleteRedisPrefix, testDatabase, uniquePrefix } from '@taskq/testing';
import { createApiApp } from '../api-app';
import { BOARD_PATH } from '../board/bull-board';
import { PROBLEM_JSON, authorizeInjections, send } from '../tasks/testing/test-apps';

const db = testDatabase('api_openapi');
const prefix = uniquePrefix('api-openapi');
const NO_AUTH = { authorization: undefined } as unknown as Record<string, string>;

interface Operation {
  operationId: string;
  security?: unknown[];
  'x-required-scope'?: string;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema: { $ref?: string }; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  security: Array<Record<string, string[]>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, Record<string, string>> };
}

let app: NestFastifyApplication;
/** `METHOD /path` of every route Fastify registered for the app (Nest's and plugins'). */
const appRoutes = new Set<string>();
let document: Document;

/** Each operation of the document: method (upper case), path with `{param}`, operation. */
const operations = (): Array<[string, string, Operation]> =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]): [string, string, Operation] => [method.toUpperCase(), path, operation]));

/** Validates against the document's own component schemas. */
const ajv = (): ((name: string, value: unknown) => { valid: boolean; errors: string }) => {
  const validator = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  validator.addSchema({ $id: 'taskq:openapi', components: document.components }, 'taskq:openapi');
  return (name, value) => {
    const valid = validator.validate({ $ref: `taskq:openapi#/components/schemas/${name}` }, value);
    return { valid, errors: validator.errorsText(validator.errors) };
  };
};

beforeAll(async () => {
  // startApi, but with a hook that sees every route Nest and the plugins add at init.
  const created = await createApiApp(
    loadConfig(ApiConfig, { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'fatal', API_KEY: TEST_API_KEY }),
  );
  const fastify = created.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) appRoutes.add(`${method} ${route.url}`);
  });
  await created.init();
  await fastify.ready();
  app = authorizeInjections(created);
  document = (await app.inject({ method: 'GET', url: '/docs/json', headers: NO_AUTH })).json<Document>();
});

afterAll(async () => {
  await app?.close();
  await deleteRedisPrefix(prefix);
  await db.drop();
});

describe('/docs', () => {
  it('serves the OpenAPI document at /docs/json without an API key, as valid OpenAPI 3.1', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/json', headers: NO_AUTH });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const validator = new Validator();
    const result = await validator.validate(response.json());
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(response.json()).toMatchObject({ info: { title: 'taskq', version: expect.stringMatching(/^\d+\.\d+\.\d+/) } });
  });

  it('serves the same document as YAML at /docs/yaml', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/yaml', headers: NO_AUTH });
    expect(response.statusCode).toBe(200);
    const { parse } = await import('yaml');
    expect(parse(response.body)).toEqual(document);
  });

  it.each(['/docs', '/docs/'])('serves Swagger UI at %s without an API key, with every asset it loads under /docs/', async (url) => {
    const page = await app.inject({ method: 'GET', url, headers: NO_AUTH });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<div id="swagger-ui">');
    const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map(([, ref]) => new URL(ref as string, `http://api${url}`).pathname);
    expect(assets).toEqual(expect.arrayContaining(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui-init.js']));
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//);
      const response = await app.inject({ method: 'GET', url: asset, headers: NO_AUTH });
      expect({ asset, status: response.statusCode, length: response.body.length > 0 }).toEqual({ asset, status: 200, length: true });
    }
  });

  it('does not open anything else to callers without a key', async () => {
    const response = await app.inject({ method: 'GET', url: '/tasks', headers: NO_AUTH });
    expect(response.statusCode).toBe(401);
  });
});

describe('the OpenAPI document', () => {
  it("lists every route of the app, and only those (Bull Board's, the docs' and the console's files aside)", () => {
    const documented = new Set(operations().map(([method, path]) => `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const served = new Set(
      [...appRoutes].filter((route) => {
        const [method, url = ''] = route.split(' ');
        // The console's files are pages and assets, not API routes (console.browser.spec.ts covers them).
        return method !== 'HEAD' && !url.startsWith(BOARD_PATH) && url !== '/docs' && !url.startsWith('/docs/') && url !== '/console' && !url.startsWith('/console/');
      }),
    );
    // The hook saw the app's routes, the board's included.
    expect([...appRoutes].some((route) => route.startsWith(`GET ${BOARD_PATH}/api/queues`))).toBe(true);
    expect(served).toContain('GET /health');
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it('has the payload schema of every registered task type, the one GET /task-types serves', async () => {
    const taskTypes = (await app.inject({ method: 'GET', url: '/task-types' })).json<TaskTypeView[]>();
    const submit = document.components.schemas['SubmitTaskDto'] as { properties: { type: { enum: string[] } }; 'x-taskq-payload-schemas': Record<string, string> };
    expect(submit.properties.type.enum).toEqual(TASK_TYPE_NAMES);
    for (const type of TASK_TYPE_NAMES) {
      const name = getTaskType(type).payload.name;
      expect(document.components.schemas[name]).toEqual(taskTypes.find((view) => view.type === type)?.payloadSchema);
      expect(submit['x-taskq-payload-schemas'][type]).toBe(`#/components/schemas/${name}`);
    }
  });

  it.each([
    'SubmitTaskDto',
    'BackoffOverrideDto',
    'BulkSubmitDto',
    'ListTasksQuery',
    'ListDeadLettersQuery',
    'DeadLetterFilter',
    'CreateScheduleDto',
    'UpdateScheduleDto',
    'CreateApiKeyDto',
    'TaskStatsQuery',
    'ProblemDetails',
  ])('has the schema %s', (name) => {
    expect(document.components.schemas[name]).toMatchObject({ type: 'object', properties: expect.any(Object) });
  });

  it('declares the bearer and X-API-Key schemes, required everywhere but on /health and /health/ready', () => {
    expect(document.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    expect(document.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    const open = operations().filter(([, , operation]) => operation.security !== undefined);
    // The console's sign-in takes no key: the key is in the body, the session in a cookie.
    expect(open.map(([method, path, operation]) => [method, path, operation.security])).toEqual([
      ['POST', '/auth/session', []],
      ['GET', '/auth/session', []],
      ['DELETE', '/auth/session', []],
      ['GET', '/health', []],
      ['GET', '/health/ready', []],
    ]);
    for (const [method, path, operation] of operations().filter(([, , operation]) => operation.security === undefined)) {
      expect({ route: `${method} ${path}`, scope: operation['x-required-scope'] }).toEqual({ route: `${method} ${path}`, scope: expect.stringMatching(/^(tasks:read|tasks:write|admin|any-key)$/) });
    }
  });

  it('references a component schema for every request body, and declares problem+json errors on every operation', () => {
    for (const [method, path, operation] of operations()) {
      const route = `${method} ${path}`;
      if (operation.requestBody) {
        const ref = operation.requestBody.content['application/json']?.schema.$ref ?? '';
        expect({ route, ref }).toEqual({ route, ref: expect.stringMatching(/^#\/components\/schemas\/\w+$/) });
        expect(document.components.schemas[ref.split('/').pop() as string]).toBeDefined();
      }
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      expect({ route, errors: errors.length > 0 }).toEqual({ route, errors: true });
      for (const [status, response] of errors) {
        expect({ route, status, schema: response.content?.['application/problem+json']?.schema.$ref }).toEqual({ route, status, schema: '#/components/schemas/ProblemDetails' });
      }
      if (operation.security === undefined) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '429', '503']));
    }
  });
});

describe('the document tells the truth', () => {
  it('its request examples are valid against their schemas', () => {
    const validate = ajv();
    let examples = 0;
    for (const [method, path, operation] of operations()) {
      const body = operation.requestBody?.content['application/json'];
      for (const [name, example] of Object.entries(body?.examples ?? {})) {
        const result = validate(body?.schema.$ref?.split('/').pop() ?? '', example.value);
        expect({ example: `${method} ${path} ${name}`, errors: result.valid ? '' : result.errors }).toEqual({ example: `${method} ${path} ${name}`, errors: '' });
        examples += 1;
      }
    }
    expect(examples).toBeGreaterThan(5);
  });

  const pathOf = (path: string): string => path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
  const keys: Partial<Record<ApiKeyScope, string>> = {};

  beforeAll(async () => {
    for (const scope of [ApiKeyScope.TasksRead, ApiKeyScope.TasksWrite]) {
      const created = await send(app, 'POST', '/keys', { name: `docs-${scope.replace(':', '-')}`, scopes: [scope] });
      expect(created.statusCode).toBe(201);
      keys[scope] = created.json<{ key: string }>().key;
    }
  });

  it('every operation needs the scope it documents: 401 without a key, 403 with a key lacking it, neither with one that has it', async () => {
    const bearer = (key: string | undefined): Record<string, string> => ({ authorization: `Bearer ${key}` });
    for (const [method, path, operation] of operations()) {
      // An event stream that is let in never ends: a cursor it refuses (400, after auth) keeps it short.
      const streams = operation.responses['200']?.content?.['text/event-stream'] !== undefined;
      const url = streams ? `${pathOf(path)}?lastEventId=not-a-cursor` : pathOf(path);
      const call = async (headers: Record<string, string>): Promise<number> => (await app.inject({ method: method as 'GET', url, headers })).statusCode;
      const route = `${method} ${path}`;
      const scope = operation['x-required-scope'];
      if (scope === undefined) {
        // Reading the console's session without one is 401 "not signed in", not "no key".
        if (route === 'GET /auth/session') expect((await app.inject({ method: 'GET', url, headers: NO_AUTH })).json()).toMatchObject({ status: 401, detail: expect.stringContaining('Not signed in') });
        else expect({ route, status: await call(NO_AUTH) }).not.toEqual({ route, status: 401 });
        continue;
      }
      expect({ route, status: await call(NO_AUTH) }).toEqual({ route, status: 401 });
      const lacking = scope === ApiKeyScope.TasksRead ? keys[ApiKeyScope.TasksWrite] : keys[ApiKeyScope.TasksRead];
      const having = scope === ApiKeyScope.Admin ? TEST_API_KEY : scope === 'any-key' ? keys[ApiKeyScope.TasksRead] : keys[scope as ApiKeyScope];
      if (scope !== 'any-key') expect({ route, status: await call(bearer(lacking)) }).toEqual({ route, status: 403 });
      const status = await call(bearer(having));
      expect({ route, status, refused: status === 401 || status === 403 }).toEqual({ route, status, refused: false });
    }
  });

  it("the payload schemas accept what the API accepts and refuse what it refuses, each type's own", async () => {
    const validate = ajv();
    const samples: Array<[unknown, boolean]> = [
      [{ type: 'email', payload: { to: 'ops@example.com', subject: 'Hello', text: 'Sent by taskq' } }, true],
      [{ type: 'email', payload: { to: ['a@example.com', 'b@example.com'], subject: 'Hi', html: '<p>hi</p>' } }, true],
      [{ type: 'email', payload: { to: 'ops@example.com', subject: 'No body' } }, false],
      [{ type: 'email', payload: { to: 'ops@example.com', subject: 'Hi', text: 'x', cc: 'x@example.com' } }, false],
      [{ type: 'webhook', payload: { url: 'https://example.com/hook' } }, true],
      [{ type: 'webhook', payload: { url: 'https://example.com/hooks/order', method: 'POST', body: { order: 42 }, headers: { 'x-a': '1' } }, priority: 1 }, true],
      [{ type: 'webhook', payload: { url: 'https://example.com/hook', headers: { 'x-a': 1 } } }, false],
      [{ type: 'webhook', payload: { url: 'https://example.com/hook', method: 'TRACE' } }, false],
      [{ type: 'report', payload: { windowMinutes: 60 }, runAt: '2026-12-01T00:00:00Z' }, true],
      [{ type: 'report', payload: { windowMinutes: 0 } }, false],
      [{ type: 'noop', payload: {} }, true],
      [{ type: 'noop', payload: { note: 5 } }, false],
      [{ type: 'sleep', payload: { ms: 1 }, delayMs: 300000, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 10000, jitter: 'none' }, timeoutMs: 5000 }, true],
      [{ type: 'sleep', payload: {} }, false],
      [{ type: 'sleep', payload: { ms: 1.5 } }, false],
      [{ type: 'sleep', payload: { note: 'a noop payload under another type' } }, false],
      [{ type: 'fax', payload: {} }, false],
      [{ type: 'noop', payload: {}, colour: 'red' }, false],
    ];
    for (const [body, valid] of samples) {
      const documented = validate('SubmitTaskDto', body);
      const answer = await send(app, 'POST', '/tasks', body);
      expect({ body, documented: documented.valid, api: answer.statusCode }).toEqual({ body, documented: valid, api: valid ? 202 : 400 });
    }
  });

  it('the answers match their documented schemas', async () => {
    const validate = ajv();
    const expectSchema = (name: string, value: unknown): void => {
      const result = validate(name, value);
      expect({ name, value, errors: result.valid ? '' : result.errors }).toEqual({ name, value, errors: '' });
    };
    const submitted = await send(app, 'POST', '/submit-task', { type: 'noop', payload: { note: 'docs' } }, { 'idempotency-key': 'docs-1' });
    expect(submitted.statusCode).toBe(202);
    expectSchema('SubmitTaskResponse', submitted.json());
    const id = submitted.json<{ id: string }>().id;
    expectSchema('TaskView', (await send(app, 'GET', `/tasks/${id}`)).json());
    expectSchema('TaskPage', (await send(app, 'GET', '/tasks?limit=5')).json());
    expectSchema('CancelResponse', (await send(app, 'POST', `/tasks/${id}/cancel`)).json());
    expectSchema('BulkSubmitResponse', (await send(app, 'POST', '/tasks/bulk', { tasks: [{ type: 'noop', payload: {} }] })).json());
    for (const view of (await send(app, 'GET', '/task-types')).json<unknown[]>()) expectSchema('TaskTypeView', view);
    const schedule = await send(app, 'POST', '/schedules', { name: 'docs-nightly', cron: '0 3 * * *', tz: 'Europe/Paris', type: 'report', payload: { windowMinutes: 1440 } });
    expect(schedule.statusCode).toBe(201);
    expectSchema('ScheduleView', schedule.json());
    expectSchema('ScheduleList', (await send(app, 'GET', '/schedules')).json());
    expectSchema('ScheduleView', (await send(app, 'POST', '/schedules/docs-nightly/pause')).json());
    expectSchema('ScheduleView', (await send(app, 'POST', '/schedules/docs-nightly/resume')).json());
    const run = await send(app, 'POST', '/schedules/docs-nightly/run');
    expect(run.statusCode).toBe(202);
    expectSchema('SubmitTaskResponse', run.json());
    expectSchema('TaskPage', (await send(app, 'GET', `/tasks?q=${run.json<{ id: string }>().id}&tenant=default&from=2026-01-01T00:00:00Z`)).json());
    const stats = await send(app, 'GET', '/stats?windowMinutes=5');
    expect(stats.statusCode).toBe(200);
    expectSchema('TaskStats', stats.json());
    for (const key of (await send(app, 'GET', '/keys')).json<unknown[]>()) expectSchema('ApiKeyView', key);
    expectSchema('Liveness', (await send(app, 'GET', '/health')).json());
    expectSchema('Readiness', (await send(app, 'GET', '/health/ready')).json());

    const invalid = await send(app, 'POST', '/tasks', { type: 'sleep', payload: {} });
    expect(invalid.headers['content-type']).toMatch(PROBLEM_JSON);
    expectSchema('ProblemDetails', invalid.json());
    const unauthorized = await app.inject({ method: 'GET', url: '/tasks', headers: NO_AUTH });
    expect(unauthorized.headers['content-type']).toMatch(PROBLEM_JSON);
    expectSchema('ProblemDetails', unauthorized.json());
  });
});
