import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate } from 'class-validator';
import fc from 'fast-check';
import * as contracts from './index';
import { fastValidatorOf } from './fast-validation';
import { VALIDATOR_OPTIONS } from './payload-validation';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- class constructors of any arity
type DtoClass = new (...args: any[]) => object;

/** Every class of the contracts that class-validator knows: the payloads, the API bodies and queries. */
const DTO_CLASSES: DtoClass[] = Object.values(contracts).filter(
  (value): value is DtoClass => typeof value === 'function' && getMetadataStorage().getTargetValidationMetadatas(value, '', false, false, undefined).length > 0,
);

const propertiesOf = (target: DtoClass): string[] => [...new Set(getMetadataStorage().getTargetValidationMetadatas(target, '', false, false, undefined).map((rule) => rule.propertyName))];

const email = 'ops@example.com';
/** Values near every rule of the DTOs (bounds, formats, enums), valid and not. */
const interesting: unknown[] = [
  ...[0, -0, 1, -1, 1.5, 2, 3, 4, 5, 7, 50, 51, 99, 100, 101, 1000, 1001, 120_000, 120_001, 300_000, 300_001, 527_040, 527_041, 3_600_000, 3_600_001],
  ...[86_400_000, 86_400_001, 31_622_400_000, 31_622_400_001, 1e21, Number.MAX_SAFE_INTEGER],
  ...['', ' ', 'x', ...contracts.TASK_TYPE_NAMES, 'fax', 'constructor', '__proto__', 'queued', 'dead', '5', '1.5', 'abc'],
  ...[email, 'not-an-address', 'a@b', 'https://example.com/hook', 'http://127.0.0.1:8080/x', 'ftp://example.com', 'example.com', 'https://'],
  ...['2026-12-01T00:00:00Z', '2026-12-01', '2026-13-01T00:00:00Z', '2026-12-01T25:00:00Z', 'yesterday'],
  ...['GET', 'POST', 'TRACE', 'get', 'fixed', 'exponential', 'linear', 'full', 'none', 'tasks:write', 'tasks:read', 'admin', 'root'],
  ...['0 3 * * *', '*/5 * * * * *', '@daily', '61 * * * *', 'Europe/Paris', 'UTC', 'Mars/Olympus', 'nightly-1', 'Has Space', 'order-42'],
  ...['x'.repeat(100), 'x'.repeat(101), 'x'.repeat(200), 'x'.repeat(201), 'x'.repeat(998), 'x'.repeat(999), 'x'.repeat(1000), 'x'.repeat(1001), '😀'.repeat(100), '\u00e9\ufe0f'.repeat(60)],
  ...[null, true, false],
  ...[[], [email], [email, 'b@example.com'], ['not-an-address'], Array(51).fill(email), Array(50).fill(email), ['tasks:write', 'admin'], ['admin', 'admin'], ['tasks:read', 'tasks:write', 'admin', 'admin'], [1, 2], [{}], [{ type: 'noop', payload: {} }, { type: 'sleep' }]],
  ...[{}, { a: '1' }, { a: 1 }, { 'x-a': '1', 'x-b': '2' }, { nested: { deep: [1, 'two'] } }, { type: 'fixed' }, { type: 'fixed', delayMs: 5, jitter: 'none' }],
  ...[{ delayMs: 10, maxDelayMs: 5 }, { delayMs: -1 }, { type: 'linear' }, { extra: 1 }, { ms: 5 }, { note: 'n' }, { windowMinutes: 60 }, { url: 'https://example.com' }],
];

const anyValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...interesting) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

/** The interesting values class-validator accepts for one property of a DTO, taken on its own. */
async function validValuesOf(target: DtoClass, property: string): Promise<unknown[]> {
  const valid: unknown[] = [];
  for (const candidate of interesting) {
    const errors = await validate(plainToInstance(target, { [property]: candidate }), VALIDATOR_OPTIONS);
    if (!errors.some((error) => error.property === property)) valid.push(candidate);
  }
  return valid;
}

/** The DTOs Nest fills from the query string (named so in contracts). */
const isQuery = (target: DtoClass): boolean => /(Query|Filter)$/.test(target.name);
const queryValue: fc.Arbitrary<unknown> = fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }));

/**
 * Bodies for a DTO: each of its properties present or not, mostly with a value valid for it
 * alone (so that many bodies are valid), sometimes with any value; now and then a property it
 * does not know.
 */
async function bodies(target: DtoClass): Promise<fc.Arbitrary<Record<string, unknown>>> {
  // A query's values come from the query string: strings, or lists of them for a repeated name.
  // (Any JSON value there would be a case the API never sees: class-transformer's Number() throws on {"toString": []}.)
  const other = isQuery(target) ? queryValue : anyValue;
  const properties: Record<string, fc.Arbitrary<unknown>> = {};
  for (const property of propertiesOf(target)) {
    const valid = await validValuesOf(target, property);
    properties[property] = valid.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: other }) : other;
  }
  const known = fc.record(properties, { requiredKeys: [] });
  const unknown = fc.option(fc.tuple(fc.constantFrom('extra', 'colour', 'payload', 'constructor'), other), { freq: 10 });
  return fc.tuple(known, unknown).map(([body, extra]) => (extra ? { ...body, [extra[0]]: extra[1] } : body));
}

describe(fastValidatorOf.name, () => {
  it('covers the registry and the API bodies', () => {
    expect(DTO_CLASSES.map((target) => target.name)).toEqual(expect.arrayContaining(['SubmitTaskDto', 'BulkSubmitDto', 'EmailPayload', 'WebhookPayload', 'NoopPayload', 'SleepPayload', 'ReportPayload']));
    for (const target of DTO_CLASSES) expect([target.name, fastValidatorOf(target) !== null]).toEqual([target.name, true]);
  });

  it.each(DTO_CLASSES.map((target) => [target.name, target] as const))('never accepts a %s that class-validator refuses, and takes every valid one but known exceptions', async (_name, target) => {
    const check = fastValidatorOf(target) as (instance: object) => boolean;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(await bodies(target), async (body) => {
        const instance = plainToInstance(target, body);
        const fast = check(instance);
        const errors = await validate(instance, VALIDATOR_OPTIONS);
        if (fast) {
          accepted += 1;
          expect(errors).toEqual([]);
        } else if (errors.length === 0) {
          // class-validator accepts, the fast path leaves it to class-validator: only where the
          // two are known to differ (an array where a nested DTO belongs, which class-validator
          // validates item by item; a "constructor" key, which its whitelist does not see).
          expect({ body, knownGap: Array.isArray(body['backoff']) || Object.hasOwn(body, 'constructor') }).toEqual({ body, knownGap: true });
        }
      }),
      { numRuns: 3_000 },
    );
    // Not a vacuous proof: many generated bodies are valid, and the fast path takes them all.
    expect(accepted).toBeGreaterThan(30);
  });

  it('takes the bodies the API sees most, and leaves the rest to class-validator', () => {
    const accepts = (target: DtoClass, body: object): boolean => (fastValidatorOf(target) as (instance: object) => boolean)(plainToInstance(target, body));
    expect(accepts(contracts.SubmitTaskDto, { type: 'noop', payload: {} })).toBe(true);
    expect(accepts(contracts.SubmitTaskDto, { type: 'webhook', payload: {}, priority: 1, backoff: { type: 'fixed', delayMs: 10 }, runAt: '2026-12-01T00:00:00Z' })).toBe(true);
    expect(accepts(contracts.EmailPayload, { to: email, subject: 'Hi', html: '<p>hi</p>' })).toBe(true);
    expect(accepts(contracts.WebhookPayload, { url: 'https://example.com/hook', method: 'POST', headers: { a: 'b' }, body: [1, { two: 2 }] })).toBe(true);
    expect(accepts(contracts.SubmitTaskDto, { type: 'noop', payload: {}, backoff: { type: 'linear' } })).toBe(false);
    expect(accepts(contracts.SubmitTaskDto, { type: 'noop', payload: {}, backoff: [{ type: 'fixed' }] })).toBe(false);
    expect(accepts(contracts.EmailPayload, { to: email, subject: 'Hi' })).toBe(false);
    expect(accepts(contracts.SleepPayload, { ms: 1.5 })).toBe(false);
    // A plain object is not what class-validator validates (forbidUnknownValues): never fast.
    expect((fastValidatorOf(contracts.NoopPayload) as (instance: object) => boolean)({})).toBe(false);
  });
});
