import { IS_URL, ValidationTypes, getMetadataStorage } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { ISchemaConverters } from 'class-validator-jsonschema/build/defaultConverters';
import { TASK_TYPE_NAMES, getTaskType, type SchemaHints } from '@taskq/contracts';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

/** `{ $ref }` to a schema of the OpenAPI document's components. */
export const schemaRef = (name: string): { $ref: string } => ({ $ref: `${SCHEMA_REF_PREFIX}${name}` });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- DTO constructors of any arity
export type DtoClass = new (...args: any[]) => object;

/** Our custom class-validator decorators (ValidateBy names), which the generator cannot read. */
const CONVERTERS: ISchemaConverters = {
  isStringRecord: { type: 'object', additionalProperties: { type: 'string' } },
  isCronExpression: { type: 'string', description: 'Cron expression: 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @daily, @hourly…' },
  isIanaTimeZone: { type: 'string', description: 'IANA time zone name, e.g. Europe/Paris or UTC.' },
  // JSON Schema's name for it is `uri`; the generator says `url`, which no validator knows.
  [IS_URL]: { type: 'string', format: 'uri' },
};

/**
 * What the class-validator metadata cannot say: a value a `@Transform` accepts besides the
 * validated form, a field that may be `null`, a `@ValidateIf` between two fields. By class name;
 * a task type's payload hints come with its definition.
 */
const REFINEMENTS = new Map<string, SchemaHints>([
  ...TASK_TYPE_NAMES.flatMap((type): Array<[string, SchemaHints]> => {
    const { payload, payloadSchema } = getTaskType(type);
    return payloadSchema ? [[payload.name, payloadSchema]] : [];
  }),
  ['CreateScheduleDto', { properties: { tz: { type: ['string', 'null'], description: 'IANA time zone the cron expression is read in; absent or null: UTC.' } } }],
  ['UpdateScheduleDto', { properties: { tz: { type: ['string', 'null'], description: 'IANA time zone; null goes back to UTC.' } } }],
]);

const OPTIONS = { refPointerPrefix: SCHEMA_REF_PREFIX, additionalConverters: CONVERTERS };

/**
 * The JSON Schema of a class-validator DTO as the API validates it: unknown fields are refused
 * (`forbidNonWhitelisted`), and a field that is only `@Allow()`ed may be left out.
 */
function refineDtoSchema(name: string, target: DtoClass, schema: JsonSchema): JsonSchema {
  const refinement = REFINEMENTS.get(name) ?? {};
  const properties = { ...(schema['properties'] as Record<string, JsonSchema> | undefined), ...refinement.properties };
  const allowedOnly = allowOnlyProperties(target);
  const required = ((schema['required'] as string[] | undefined) ?? []).filter((property) => !allowedOnly.has(property));
  const { required: _required, ...rest } = schema;
  return { ...rest, ...refinement.schema, type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
}

/** Properties whose only rule is `@Allow()`: any value, absent included. */
function allowOnlyProperties(target: DtoClass): Set<string> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(target, '', true, false);
  const byProperty = new Map<string, string[]>();
  for (const rule of rules) byProperty.set(rule.propertyName, [...(byProperty.get(rule.propertyName) ?? []), rule.type]);
  return new Set([...byProperty].filter(([, types]) => types.every((type) => type === ValidationTypes.WHITELIST)).map(([property]) => property));
}

/** One DTO's schema (at any time, e.g. while decorators run). Nested DTOs are `$ref`s. */
export function dtoSchemaOf(target: DtoClass): JsonSchema {
  return refineDtoSchema(target.name, target, targetConstructorToSchema(target, OPTIONS) as JsonSchema);
}

/**
 * The schemas of `targets` and of the DTOs they nest (`@ValidateNested`), by class name. Throws
 * if a schema refers to one it cannot name, so the document never holds a dangling `$ref`.
 */
export function dtoSchemasOf(targets: readonly DtoClass[]): Map<string, JsonSchema> {
  const schemas = new Map<string, JsonSchema>();
  const pending = [...targets];
  for (let target = pending.pop(); target; target = pending.pop()) {
    if (schemas.has(target.name)) continue;
    schemas.set(target.name, dtoSchemaOf(target));
    pending.push(...nestedDtoClasses(target));
  }
  for (const [name, schema] of schemas) {
    const dangling = refsIn(schema).find((ref) => !schemas.has(ref.slice(SCHEMA_REF_PREFIX.length)));
    if (dangling) throw new Error(`the schema of ${name} refers to ${dangling}, which is no DTO class known here`);
  }
  return schemas;
}

/** The classes of a DTO's `@ValidateNested()` properties (from their declared types). */
function nestedDtoClasses(target: DtoClass): DtoClass[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(target, '', true, false)
    .filter((rule) => rule.type === ValidationTypes.NESTED_VALIDATION)
    .map((rule) => Reflect.getMetadata('design:type', target.prototype as object, rule.propertyName) as unknown)
    .filter((type): type is DtoClass => typeof type === 'function' && type !== Array && type !== Object);
}

/** Every `$ref` inside a schema. */
export function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner)));
}
