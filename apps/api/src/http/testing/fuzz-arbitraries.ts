import fc from 'fast-check';
import { TASK_TYPE_NAMES, type TaskType } from '@taskq/contracts';
import { TEST_API_KEY } from '@taskq/testing';

/**
 * fast-check generators of hostile, broken and almost-valid HTTP requests for the API's write
 * routes (see write-routes.fuzz.int-spec.ts). Bodies come as raw text, so that what is sent —
 * duplicate keys, truncated JSON, escapes JSON.stringify would never write — is exactly what
 * a counterexample shows.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Things the server created that a path parameter may name, resolved when the request is sent. */
export type Pool = 'task' | 'schedule' | 'key';
export type PathParam = { literal: string } | { known: Pool; index: number };

export interface FuzzRequest {
  /** One per `:param` of the route, in order. */
  params: PathParam[];
  /** Raw query string without `?` ('' for none). */
  query: string;
  headers: Record<string, string>;
  /** Raw body; undefined sends none. */
  body?: string;
}


// ---------------------------------------------------------------------------------------------
// Values

/** Strings that have broken parsers, queries and validators somewhere. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  "'; DROP TABLE tasks; --",
  "' OR '1'='1",
  '$where',
  '{"$gt":""}',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '%00',
  '%zz',
  '\\',
  '\\u0000',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '0x10',
  'noop',
  'email',
  'Noop',
  ' noop',
  'tasks:write',
  'admin',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-02-30',
  '+275760-09-13T00:00:00Z',
  '2026-11-23T10:00:00+24:00',
  '1970-01-01T00:00:00.000Z',
  'Europe/Paris',
  'Mars/Olympus',
  '* * * * *',
  '0 0 31 2 *',
  '@reboot',
  'H * * * *',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '\ud83d\udca9',
  '\ufeff',
  'Z\u0351\u0360\u0322a\u0358\u0361lgo',
  'e\u0301',
  '\u00df\u0130\u0131',
];

const NASTY_NUMBERS = [0, -0, -1, 1, 0.5, -0.5, 1e-7, 99, 100, 101, 999, 1000, 1001, 2 ** 31, 2 ** 31 - 1, 2 ** 53, -(2 ** 53), 1e21, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2];

/** Any code point (NUL included), and now and then half of a surrogate pair, which `unit: 'binary'` never gives. */
const anyCodeUnit = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.constant('\u0000') },
);

const text = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: anyCodeUnit, maxLength }) },
  );

/** A value of any JSON type, biased towards edge cases. */
export const nastyValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(...NASTY_NUMBERS),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...NASTY_STRINGS),
  text(40),
  fc.constant('x'.repeat(1_001)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>,
  fc.array(fc.constantFrom<JsonValue>(null, 1, 'a', {}, []), { maxLength: 5 }),
);

// ---------------------------------------------------------------------------------------------
// Valid bodies

const isoTime = fc.date({ min: new Date(Date.now() - 400 * 86_400_000), max: new Date(Date.now() + 400 * 86_400_000), noInvalidDate: true }).map((date) => date.toISOString());

/** Valid payloads per type. A type without a generator here is sent only in invalid bodies. */
const payloadOf: Partial<Record<TaskType, fc.Arbitrary<JsonObject>>> = {
  noop: fc.record({ note: text(60) }, { requiredKeys: [] }),
  sleep: fc.record({ ms: fc.integer({ min: 0, max: 300_000 }) }),
  report: fc.record({ windowMinutes: fc.integer({ min: 1, max: 527_040 }) }, { requiredKeys: [] }),
  email: fc.record(
    {
      to: fc.oneof(fc.emailAddress(), fc.array(fc.emailAddress(), { minLength: 1, maxLength: 3 })),
      subject: text(40),
      text: text(80),
      html: fc.constant('<p>hi</p>'),
      from: fc.emailAddress(),
    },
    { requiredKeys: ['to', 'subject'] },
  ),
  webhook: fc.record(
    {
      url: fc.oneof(fc.webUrl(), fc.constantFrom('https://example.com/hook', 'http://127.0.0.1:9/x', 'http://[::1]/', 'ftp://example.com/', 'https://exa mple.com')),
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
      headers: fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), text(30), { maxKeys: 3 }),
      body: fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>,
      timeoutMs: fc.integer({ min: 100, max: 120_000 }),
    },
    { requiredKeys: ['url'] },
  ),
};
const validPayloadTypes = TASK_TYPE_NAMES.flatMap((type) => {
  const payload = payloadOf[type];
  return payload ? [{ type, payload }] : [];
});

const backoff = fc
  .record({ type: fc.constantFrom('exponential', 'fixed'), delayMs: fc.integer({ min: 0, max: 60_000 }), extraDelayMs: fc.integer({ min: 0, max: 600_000 }), jitter: fc.constantFrom('full', 'none') }, { requiredKeys: [] })
  .map(({ extraDelayMs, ...policy }) => (extraDelayMs === undefined ? policy : { ...policy, maxDelayMs: (policy.delayMs ?? 0) + extraDelayMs }));

/** When a task may start: at most one of the three ways to say it. */
const timing: fc.Arbitrary<JsonObject> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: isoTime.map((runAt) => ({ runAt })) },
  { weight: 1, arbitrary: isoTime.map((time) => ({ visibility_time: time })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3_600_000 }).map((delayMs) => ({ delayMs })) },
);

/** A task as `POST /tasks` takes it: usually valid, with any of the optional fields. */
export const validTask: fc.Arbitrary<JsonObject> = fc
  .tuple(
    fc.constantFrom(...validPayloadTypes).chain(({ type, payload }) => payload.map((value) => ({ type, payload: value }))),
    timing,
    fc.record(
      {
        priority: fc.integer({ min: 1, max: 1_000 }),
        maxAttempts: fc.integer({ min: 1, max: 50 }),
        backoff,
        timeoutMs: fc.integer({ min: 100, max: 3_600_000 }),
        idempotencyKey: fc.stringMatching(/^[\x21-\x7e]{1,12}$/),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([task, when, options]) => ({ ...task, ...when, ...options }));

export const validBulk: fc.Arbitrary<JsonObject> = fc.array(validTask, { minLength: 1, maxLength: 8 }).map((tasks) => ({ tasks }));

const CRONS = ['0 3 * * *', '*/5 * * * *', '@daily', '@hourly', '@weekdays', '0 0 1 1 *', '*/10 * * * * *', '0 9 * * mon-fri', '0 0 L * *', '0 0 * * 1#2', '15,45 8-18 * jan-jun *', '0 0 29 2 *'];
const cronField = (min: number, max: number): fc.Arbitrary<string> => {
  const value = fc.integer({ min, max });
  return fc.oneof(fc.constant('*'), value.map(String), fc.integer({ min: 1, max: 30 }).map((step) => `*/${step}`), fc.tuple(value, value).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`));
};
const cron = fc.oneof(
  fc.constantFrom(...CRONS),
  fc.tuple(cronField(0, 59), cronField(0, 23), cronField(1, 28), cronField(1, 12), cronField(0, 7)).map((fields) => fields.join(' ')),
);
const timeZone = fc.constantFrom(null, 'UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Etc/GMT+5');
export const scheduleName = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,24}$/);

export const validSchedule: fc.Arbitrary<JsonObject> = fc
  .tuple(scheduleName, cron, fc.record({ tz: timeZone, enabled: fc.boolean() }, { requiredKeys: [] }), validTask)
  .map(([name, expression, options, task]) => ({ name, cron: expression, ...options, type: task['type'] ?? 'noop', payload: task['payload'] ?? {} }));

export const validSchedulePatch: fc.Arbitrary<JsonObject> = fc
  .tuple(fc.record({ cron, tz: timeZone, enabled: fc.boolean() }, { requiredKeys: [] }), fc.option(validTask))
  .map(([fields, task]) => (task ? { ...fields, type: task['type'] ?? 'noop', payload: task['payload'] ?? {} } : fields));

const keyName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,24}$/);
export const validKey: fc.Arbitrary<JsonObject> = fc.record(
  { name: keyName, scopes: fc.subarray(['tasks:write', 'tasks:read', 'admin'], { minLength: 1 }), tenant: keyName },
  { requiredKeys: ['name', 'scopes'] },
);

/** A console sign-in: the test's own key (it signs in) or any other string (refused). */
export const validSignIn: fc.Arbitrary<JsonObject> = fc.record({ apiKey: fc.oneof(fc.constant(TEST_API_KEY), fc.string({ maxLength: 80 })) });

// ---------------------------------------------------------------------------------------------
// Mutations

/** Sets a property as an own, enumerable one, whatever its name (`__proto__` included). */
const define = (target: JsonObject, key: string, value: JsonValue): void => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

type Slot = { container: JsonObject | JsonValue[]; key: string | number };

/** Every place in a JSON tree a value sits, the root's fields first. */
function slotsOf(root: JsonValue): Slot[] {
  const slots: Slot[] = [];
  const visit = (value: JsonValue): void => {
    if (value === null || typeof value !== 'object') return;
    const entries: Array<[string | number, JsonValue]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    for (const [key, item] of entries) {
      slots.push({ container: value, key });
      visit(item);
    }
  };
  visit(root);
  return slots;
}

const FIELD_NAMES = ['type', 'payload', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'timeoutMs', 'idempotencyKey', 'tasks', 'name', 'cron', 'tz', 'enabled', 'scopes', 'tenant', 'note', 'ms', 'url', 'to', 'extra', '__proto__', 'constructor', 'prototype', 'Type', ''];

export type Mutation =
  | { op: 'delete' | 'wrap' | 'stringify' | 'upcase'; at: number }
  | { op: 'replace'; at: number; value: JsonValue }
  | { op: 'add'; at: number; key: string; value: JsonValue };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'wrap' as const, 'stringify' as const, 'upcase' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: nastyValue }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...FIELD_NAMES), text(12)), value: nastyValue }),
);

/** Applies a mutation to a copy of `root` (at: which slot, modulo their number). */
export function mutate(root: JsonValue, change: Mutation): JsonValue {
  const copy = structuredClone(root);
  const slots = slotsOf(copy);
  const slot = slots[change.at % Math.max(1, slots.length)];
  if (change.op === 'add') {
    const targets = [copy, ...slots.map((s) => (s.container as Record<string | number, JsonValue>)[s.key] as JsonValue)].filter(
      (value): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value),
    );
    const target = targets[change.at % Math.max(1, targets.length)];
    if (target) define(target, change.key, change.value);
    return copy;
  }
  if (!slot) return change.op === 'replace' ? change.value : copy;
  const { container, key } = slot;
  const current = (container as Record<string | number, JsonValue>)[key] as JsonValue;
  const set = (value: JsonValue): void => {
    if (Array.isArray(container)) container[key as number] = value;
    else define(container, key as string, value);
  };
  if (change.op === 'delete') {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key as string];
  } else if (change.op === 'wrap') set([current]);
  else if (change.op === 'stringify') set(typeof current === 'string' ? current : JSON.stringify(current));
  else if (change.op === 'replace') set(change.value);
  else if (!Array.isArray(container) && typeof key === 'string') {
    delete container[key];
    define(container, key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase(), current);
  }
  return copy;
}

/** Edits of the JSON text itself: what no serializer writes but clients and attackers send. */
const textEdit: fc.Arbitrary<(json: string) => string> = fc.oneof(
  fc.nat().map((at) => (json: string) => json.slice(0, at % (json.length + 1))),
  fc.tuple(fc.nat(), fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', ' ', 'x', '\u0000', '\\u', '\ud800', '1e999', 'NaN')).map(
    ([at, insert]) =>
      (json: string) =>
        json.slice(0, at % (json.length + 1)) + insert + json.slice(at % (json.length + 1)),
  ),
  fc.nat().map((at) => (json: string) => json.slice(0, at % Math.max(1, json.length)) + json.slice((at % Math.max(1, json.length)) + 1)),
  // Duplicate keys: the last one wins in JSON.parse.
  fc.tuple(fc.constantFrom(...FIELD_NAMES), nastyValue).map(([key, value]) => (json: string) => json.replace(/^\{/, `{${JSON.stringify(key)}:${JSON.stringify(value)},`)),
  // A NUL or half a surrogate pair, escaped, at the end of the n-th string (key or value).
  fc.tuple(fc.nat(), fc.constantFrom('\\u0000', '\\ud800', '\\udfff', '\\ud83d')).map(([n, escape]) => (json: string) => {
    const strings = [...json.matchAll(/"(?:[^"\\]|\\.)*"/g)];
    const target = strings[n % Math.max(1, strings.length)];
    if (!target || target.index === undefined) return json;
    const end = target.index + target[0].length - 1;
    return `${json.slice(0, end)}${escape}${json.slice(end)}`;
  }),
  fc.constantFrom(
    (json: string) => json.replace(/^\{/, '{"__proto__":{"polluted":true},'),
    (json: string) => json.replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},'),
    (json: string) => json.replace(/"payload":\{/, '"payload":{"__proto__":{"polluted":true},'),
    (json: string) => json.replace(/\d+/, '1e400'),
    (json: string) => json.replace(/\d+/, '123456789012345678901234567890'),
    (json: string) => json.replace(/true|false/, '"true"'),
    (json: string) => `\ufeff${json}`,
    (json: string) => `${json}${json}`,
    (json: string) => `${json} trailing`,
    (json: string) => `[${json}]`,
    (json: string) => `{"tasks":[${json}]}`,
    (json: string) => json.replace(/:/g, ' : ').replace(/,/g, ' ,\n'),
    (json: string) => json.replace(/"/g, "'"),
  ),
);

/** JSON nested `depth` levels around a value, inside an otherwise plausible task. */
const deep = (depth: number): string => `{"type":"webhook","payload":{"url":"https://example.com","body":${'['.repeat(depth)}1${']'.repeat(depth)}}}`;

/** Bodies that test the parser's limits. `limitBytes`: the route's body limit. */
const hostile = (limitBytes: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 30, max: 40 }).map(deep) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 50_000 }).map(deep) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 4_096 }).map((extra) => `{"type":"noop","payload":{"note":"${'x'.repeat(limitBytes + extra)}"}}`) },
    { weight: 4, arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      'true',
      '0',
      '"noop"',
      '[]',
      '{}',
      '{"type":"noop","payload":{}}\u0000',
      '{"type":"noop","payload":{"note":"\\u0000"}}',
      '{"type":"noop","payload":{"note":"\\udfff"}}',
      '{"type":"noop","payload":{"\\ud800":1}}',
      '{"type":"noop","payload":{},"__proto__":{"isAdmin":true}}',
      '{"type":"noop","payload":{"constructor":{"prototype":{"polluted":true}}}}',
      '{"tasks":[{"type":"noop","payload":{"__proto__":{"polluted":true}}}]}',
      '{"name":"x","scopes":["admin"],"__proto__":{"scopes":["admin"]}}',
      `{"tasks":[${Array.from({ length: 1_001 }, () => '{"type":"noop","payload":{}}').join(',')}]}`,
      '{"type":"noop","payload":{}',
      '{"type":"noop" "payload":{}}',
      "{'type':'noop'}",
      '{"type":"noop","payload":{}}}',
      '\u00ff\u00fe{}',
    ) },
  );

/**
 * Bodies for a route whose valid body `valid` generates: valid ones, valid ones with fields
 * deleted, replaced, added, wrapped or renamed, JSON text edited by hand, arbitrary JSON,
 * arbitrary text, and parser attacks (deep, huge, NUL, unpaired surrogates, prototype keys).
 */
export function bodies(valid: fc.Arbitrary<JsonObject>, limitBytes: number): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    // Valid bodies are few (accepted requests cost the most); their mutations are many.
    { weight: 2, arbitrary: valid.map((body) => JSON.stringify(body)) },
    {
      weight: 8,
      arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([body, changes]) => JSON.stringify(changes.reduce<JsonValue>(mutate, body))),
    },
    { weight: 4, arbitrary: fc.tuple(valid, textEdit).map(([body, edit]) => edit(JSON.stringify(body))) },
    { weight: 2, arbitrary: (fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>).map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2, values: [nastyValue] }).map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: text(200) },
    { weight: 2, arbitrary: hostile(limitBytes) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Bodies for routes that take none: mostly none, sometimes anything. */
export function strayBodies(limitBytes: number): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>).map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: text(100) },
    { weight: 1, arbitrary: hostile(limitBytes) },
  );
}

// ---------------------------------------------------------------------------------------------
// URLs and headers

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const percentEncode = (bytes: Uint8Array): string =>
  [...bytes].map((byte) => (UNRESERVED.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
/** UTF-8, percent-encoded (an unpaired surrogate becomes U+FFFD, as any encoder would send it). */
export const encodeText = (value: string): string => percentEncode(Buffer.from(value, 'utf8'));

/** A path segment or query value as a client could send it: any text, bytes that are not UTF-8, broken escapes, overlong. */
const rawComponent: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: text(30).map(encodeText) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS).map(encodeText) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map(percentEncode) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%F0%9F', '%C0%AF', '%ED%A0%80', '%00', '%2F', '%2e%2e', '..', '.', '%20', '+', '%25', '%u0041', ';a=b', '*') },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 400 }).map((length) => 'a'.repeat(length)) },
);

/** A path parameter naming something the server knows, a well-formed stranger, or garbage. */
export function pathParam(pool: Pool | undefined, wellFormed: fc.Arbitrary<string>): fc.Arbitrary<PathParam> {
  return fc.oneof(
    { weight: pool ? 2 : 0, arbitrary: fc.nat().map((index): PathParam => ({ known: pool ?? 'task', index })) },
    { weight: 3, arbitrary: wellFormed.map((value): PathParam => ({ literal: encodeText(value) })) },
    { weight: 4, arbitrary: rawComponent.map((literal): PathParam => ({ literal })) },
  );
}

export const taskIdParam = pathParam('task', fc.oneof(fc.uuid(), fc.uuid().map((id) => id.toUpperCase()), fc.uuid().map((id) => `{${id}}`), fc.uuid().map((id) => id.slice(0, 35))));
export const scheduleNameParam = pathParam('schedule', fc.oneof(scheduleName, scheduleName.map((name) => name.toUpperCase())));
export const keyPrefixParam = pathParam('key', fc.stringMatching(/^[A-Za-z0-9]{12}$/));

const DLQ_FILTER_KEYS = ['type', 'from', 'to'];
/** A query string: the route's own filters with good and bad values, unknown and prototype keys, repeats, broken escapes. */
export function queryString(keys: string[] = DLQ_FILTER_KEYS): fc.Arbitrary<string> {
  const value = fc.oneof(
    fc.constantFrom(...TASK_TYPE_NAMES),
    isoTime,
    isoTime.map((time) => time.slice(0, 10)),
    rawComponent,
  );
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'limit', 'cursor', 'type[]', 'type[a]', '') }, { weight: 1, arbitrary: rawComponent });
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 6, arbitrary: fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')) },
    { weight: 1, arbitrary: rawComponent },
  );
}

const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 40 });

const contentType = fc.oneof(
  { weight: 40, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset=latin1',
      'application/json;;;',
      'application/problem+json',
      'application/merge-patch+json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
      'text/json',
      'application/xml',
      'application/octet-stream',
      '*/*',
      '',
      'json',
    ),
  },
  { weight: 1, arbitrary: headerText },
);

/** `arbitrary` about once in `every` draws, else undefined. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

/** Headers: a content type for a body, and now and then an idempotency key, a request id, a bad credential, odd extras. */
export function headers(hasBody: boolean): fc.Arbitrary<Record<string, string>> {
  return fc
    .record({
      contentType: hasBody ? fc.oneof({ weight: 30, arbitrary: contentType }, { weight: 1, arbitrary: fc.constant(undefined) }) : rarely(contentType, 10),
      idempotencyKey: rarely(fc.oneof({ weight: 8, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,16}$/) }, { weight: 1, arbitrary: headerText }, { weight: 1, arbitrary: fc.constant('k'.repeat(201)) }), 5),
      requestId: rarely(fc.oneof(fc.stringMatching(/^[\w.-]{1,20}$/), headerText), 10),
      credential: rarely(
        fc.constantFrom<Record<string, string>>(
          { authorization: 'Bearer wrong-key' },
          { authorization: 'Basic dXNlcjpwYXNz' },
          { authorization: '' },
          { 'x-api-key': 'tq_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
        ),
        40,
      ),
      extra: rarely(
        fc.constantFrom<Record<string, string>>(
          { accept: 'application/xml' },
          { 'content-encoding': 'gzip' },
          { 'x-http-method-override': 'DELETE' },
          { 'accept-version': '99' },
          { expect: '100-continue' },
        ),
        20,
      ),
    })
    .map((chosen) => ({
      ...(chosen.contentType !== undefined ? { 'content-type': chosen.contentType } : {}),
      ...(chosen.idempotencyKey !== undefined ? { 'idempotency-key': chosen.idempotencyKey } : {}),
      ...(chosen.requestId !== undefined ? { 'x-request-id': chosen.requestId } : {}),
      ...chosen.credential,
      ...chosen.extra,
    }));
}
