import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject, type ParameterObject, type PathItemObject, type ResponseObject } from '@nestjs/swagger';
import { ApiKeyScope, TASK_TYPE_NAMES, getTaskType, type TaskType } from '@taskq/contracts';
import { ANY_KEY, NO_KEY, routeAccessOf, type RouteAccess } from '../auth/requires-scope.decorator';
import { BOARD_PATH } from '../board/bull-board';
import { DOCUMENTED_DTOS, RETRY_AFTER_HEADER, problemResponse } from './api-docs.decorators';
import { SCHEMA_REF_PREFIX, dtoSchemasOf, refsIn, schemaRef, type JsonSchema } from './dto-schemas';
import { RESPONSE_SCHEMAS } from './response-schemas';

/** WARNING: keep equal to package.json's version (a unit test checks it). */
export const API_VERSION = '0.1.0';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

const DESCRIPTION = `taskq is a self-hosted distributed task queue: submit tasks over REST, workers run them with retries, PostgreSQL keeps every task's status, result and attempts.

**Authentication.** Every route but \`/health\`, \`/health/ready\` and \`/docs\` needs an API key, sent as \`Authorization: Bearer <key>\` or \`X-API-Key: <key>\`. Each operation names the scope it needs (\`x-required-scope\`): \`tasks:write\`, \`tasks:read\` or \`admin\` (which includes the other two). Keys are rate-limited (429 with \`Retry-After\`).

**Errors** are \`application/problem+json\` (RFC 9457) with a stable \`type\`, a \`detail\` and, for validation errors, \`errors[]\` naming each failing field.

**Task types.** The payload of a task is validated against its type's schema: see \`SubmitTaskDto\` and the \`<Type>Payload\` schemas, or \`GET /task-types\`.

Operators watch and steer the queues in Bull Board at [${BOARD_PATH}](${BOARD_PATH}) (its own accounts; not part of this API).`;

const TAGS: ReadonlyArray<[string, string]> = [
  ['tasks', 'Submit, read, list, retry and cancel tasks.'],
  ['dead-letter queue', 'Tasks whose attempts are spent or that failed permanently.'],
  ['schedules', 'Recurring tasks (cron). Admin keys only.'],
  ['stats', "Queue depths and recent history per task type: the console's overview."],
  ['task types', 'The registered task types and their payload schemas.'],
  ['keys', 'API keys. Admin keys only.'],
  ['health', 'Liveness and readiness; no key needed.'],
  ['metrics', 'Prometheus exposition.'],
];

/** Statuses every operation of a kind may answer, and why. */
const COMMON_PROBLEMS: Record<number, ResponseObject> = {
  400: problemResponse('The request is not valid: malformed or too deeply nested JSON, unknown fields, or a field that fails its rules (see errors[]).'),
  401: problemResponse('No API key, or an unknown or revoked one.'),
  403: problemResponse('The API key lacks the scope this operation needs (see x-required-scope).'),
  413: problemResponse('The body is larger than the limit (BODY_LIMIT_BYTES).'),
  415: problemResponse('The body is not application/json.'),
  429: problemResponse('This API key made too many requests: retry after Retry-After seconds.', RETRY_AFTER_HEADER),
  500: problemResponse('Unexpected error: the body carries only the request id; the details are in the server log.'),
  503: problemResponse('A dependency (PostgreSQL or Redis) is unavailable; nothing was changed. Retry after Retry-After seconds.', RETRY_AFTER_HEADER),
};

const ACCESS_TEXT: Record<string, string> = {
  [ANY_KEY]: 'Needs any valid API key.',
  [NO_KEY]: 'Needs no API key.',
};

interface RouteHandler {
  controller: object;
  handler: object;
}

/**
 * The OpenAPI 3.1 document of the API: operations from the controllers' decorators, component
 * schemas from the class-validator DTOs (requests and every registered type's payload) and the
 * response schemas, scopes and security from `@RequiresScope`, error answers per operation.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const handlers = new Map<string, RouteHandler>();
  const controllers = new Map(new DiscoveryService(app.get(ModulesContainer)).getControllers().map(({ metatype }) => [metatype?.name, metatype]));
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('taskq')
    .setVersion(API_VERSION)
    .setDescription(DESCRIPTION)
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>`.' })
    .addSecurity('apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same API key in the X-API-Key header.' })
    // Either one will do.
    .addSecurityRequirements('bearer')
    .addSecurityRequirements('apiKey');
  for (const [name, description] of TAGS) config.addTag(name, description);
  const document = SwaggerModule.createDocument(app, config.build(), {
    operationIdFactory: (controllerKey, methodKey) => {
      // `submit[1]`: the second path of a handler with several.
      const [, method = methodKey, alias] = /^(.*?)(?:\[(\d+)\])?$/.exec(methodKey) ?? [];
      const id = `${controllerKey.replace(/Controller$/, '').replace(/^./, (first) => first.toLowerCase())}_${method}${alias && alias !== '0' ? `_${alias}` : ''}`;
      const controller = controllers.get(controllerKey);
      const handler = (controller?.prototype as Record<string, unknown> | undefined)?.[method];
      if (!controller || typeof handler !== 'function') throw new Error(`OpenAPI: no handler ${controllerKey}.${method}`);
      handlers.set(id, { controller, handler });
      return id;
    },
  });
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...componentSchemas() } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = (item as PathItemObject)[method];
      if (!operation) continue;
      const route = handlers.get(operation.operationId ?? '');
      if (!route) throw new Error(`OpenAPI: no handler for ${method.toUpperCase()} ${path}`);
      completeOperation(operation, routeAccessOf(route.handler, route.controller));
    }
  }
  assertRefsResolve(document);
  return document;
}

/** Security, scope and the error answers every operation of its kind may give. */
function completeOperation(operation: OperationObject, access: RouteAccess): void {
  const problems: number[] = [500];
  if (access === NO_KEY) {
    operation.security = [];
  } else {
    (operation as OperationObject & { 'x-required-scope': string })['x-required-scope'] = access;
    problems.push(401, 429, 503);
    if (access !== ANY_KEY) problems.push(403);
  }
  if (operation.requestBody) problems.push(400, 413, 415);
  if ((operation.parameters ?? []).some((parameter) => (parameter as ParameterObject).in === 'query')) problems.push(400);
  const accessText = ACCESS_TEXT[access] ?? `Needs an API key with scope \`${access}\`${access === ApiKeyScope.Admin ? '' : ' (or `admin`)'}.`;
  operation.description = [operation.description, accessText].filter(Boolean).join('\n\n');
  for (const status of problems) operation.responses[status] ??= COMMON_PROBLEMS[status] as ResponseObject;
  operation.responses = Object.fromEntries(Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Every request DTO the operations use, every registered task type's payload (so a new type
 * appears here by itself), and the response schemas. The submission bodies' `payload` is tied to
 * the schema of their `type`.
 */
function componentSchemas(): Record<string, JsonSchema> {
  const payloads = new Map(TASK_TYPE_NAMES.map((type) => [type, getTaskType(type).payload.name]));
  const schemas = dtoSchemasOf([...DOCUMENTED_DTOS, ...TASK_TYPE_NAMES.map((type) => getTaskType(type).payload)]);
  const typed = (name: string, description: string): void => {
    const schema = schemas.get(name);
    if (schema) schemas.set(name, withPayloadPerType(schema, payloads, description));
  };
  typed('SubmitTaskDto', 'Task type: one of the registered types (see GET /task-types).');
  typed('CreateScheduleDto', 'Task type each run submits.');
  const update = schemas.get('UpdateScheduleDto');
  if (update) schemas.set('UpdateScheduleDto', withProperties(update, { payload: payloadOfAnyType(payloads, "Valid for the schedule's type (the new one if `type` changes too).") }));
  const bulk = schemas.get('BulkSubmitDto');
  if (bulk) schemas.set('BulkSubmitDto', withProperties(bulk, { tasks: { ...(bulk['properties'] as Record<string, JsonSchema>)['tasks'], items: schemaRef('SubmitTaskDto') } }));
  return { ...Object.fromEntries(schemas), ...RESPONSE_SCHEMAS };
}

/** `payload` matches the payload schema of the body's `type`. */
function withPayloadPerType(schema: JsonSchema, payloads: Map<TaskType, string>, typeDescription: string): JsonSchema {
  const properties = schema['properties'] as Record<string, JsonSchema>;
  return {
    ...withProperties(schema, {
      type: { ...properties['type'], enum: [...payloads.keys()], description: typeDescription },
      payload: payloadOfAnyType(payloads, "Validated against the payload schema of `type`; unknown fields are refused. See x-taskq-payload-schemas."),
    }),
    allOf: [...payloads].map(([type, payload]) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: { properties: { payload: schemaRef(payload) } },
    })),
    'x-taskq-payload-schemas': Object.fromEntries([...payloads].map(([type, payload]) => [type, `${SCHEMA_REF_PREFIX}${payload}`])),
  };
}

function payloadOfAnyType(payloads: Map<TaskType, string>, description: string): JsonSchema {
  return { description: `${description} ${[...payloads].map(([type, payload]) => `\`${type}\`: ${payload}`).join(', ')}.`, anyOf: [...payloads.values()].map(schemaRef) };
}

function withProperties(schema: JsonSchema, properties: Record<string, JsonSchema>): JsonSchema {
  return { ...schema, properties: { ...(schema['properties'] as Record<string, JsonSchema>), ...properties } };
}

/** A dangling `$ref` is a bug of this module: fail at start-up (and in tests), not in a client. */
function assertRefsResolve(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  const dangling = refsIn(document).filter((ref) => !ref.startsWith(SCHEMA_REF_PREFIX) || !(ref.slice(SCHEMA_REF_PREFIX.length) in schemas));
  if (dangling.length > 0) throw new Error(`OpenAPI document refers to missing schemas: ${[...new Set(dangling)].join(', ')}`);
}
