import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem-details.filter';
import { dtoSchemaOf, schemaRef, type DtoClass, type JsonSchema } from './dto-schemas';
import { RESPONSE_SCHEMAS } from './response-schemas';

/** The request DTOs the operations use: their schemas go into the document's components. */
export const DOCUMENTED_DTOS = new Set<DtoClass>();

/** The request body is `dto` (JSON), documented from its class-validator rules; `examples` by name. */
export function ApiJsonBody(dto: DtoClass, examples?: Record<string, { summary: string; value: unknown }>): MethodDecorator {
  DOCUMENTED_DTOS.add(dto);
  return ApiBody({ schema: schemaRef(dto.name), required: true, ...(examples ? { examples } : {}) });
}

/** One query parameter per property of the query DTO `dto`, documented from its class-validator rules. */
export function ApiQueryFrom(dto: DtoClass): MethodDecorator {
  DOCUMENTED_DTOS.add(dto);
  const schema = dtoSchemaOf(dto);
  const properties = Object.entries((schema['properties'] ?? {}) as Record<string, JsonSchema>);
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  return applyDecorators(...properties.map(([name, property]) => ApiQuery({ name, required: required.has(name), schema: property })));
}

type ResponseHeaders = Record<string, { description: string; schema: JsonSchema }>;

export const LOCATION_HEADER: ResponseHeaders = { Location: { description: 'Where the created resource can be read.', schema: { type: 'string' } } };

/**
 * A success answer: `schema` is the name of one of {@link RESPONSE_SCHEMAS} (JSON), or a
 * schema of its own; `null` for an answer without a body.
 */
export function ApiAnswer(status: number, description: string, schema: keyof typeof RESPONSE_SCHEMAS | JsonSchema | null, headers?: ResponseHeaders): MethodDecorator {
  if (typeof schema === 'string' && !(schema in RESPONSE_SCHEMAS)) throw new Error(`no response schema named ${schema}`);
  return ApiResponse({
    status,
    description,
    ...(schema === null ? {} : { schema: typeof schema === 'string' ? schemaRef(schema) : schema }),
    ...(headers ? { headers } : {}),
  });
}

/** A `application/problem+json` answer with this status. */
export function problemResponse(description: string, headers?: ResponseHeaders): { description: string; content: Record<string, { schema: JsonSchema }>; headers?: ResponseHeaders } {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: schemaRef('ProblemDetails') } }, ...(headers ? { headers } : {}) };
}

export const RETRY_AFTER_HEADER: ResponseHeaders = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } };

/**
 * The errors particular to an operation, each with why it happens there. Those of every
 * operation (401, 403, 429, 503 for authenticated ones; 400, 413, 415 for those with a body;
 * 500) are added when the document is built.
 */
export function ApiProblems(problems: Partial<Record<400 | 403 | 404 | 409 | 413 | 422 | 503, string>>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(problems).map(([status, description]) =>
      ApiResponse({ status: Number(status), ...problemResponse(description, status === '503' ? RETRY_AFTER_HEADER : undefined) }),
    ),
  );
}

/** A `text/event-stream` answer (Server-Sent Events): one block per event, as described. */
export function ApiEventStream(description: string): MethodDecorator {
  return ApiResponse({
    status: 200,
    description,
    content: {
      'text/event-stream': {
        schema: { type: 'string', description: 'Server-Sent Events: `id: <cursor>`, `event: status|progress`, `data: <TaskStatusEvent|TaskProgressEvent as JSON>`; `: heartbeat` comments.' },
        example: 'retry: 2000\n\nid: 1764855600123-6f1c1b9e-1b1a-4a4e-9c55-0d8f1e2a3b4c\nevent: status\ndata: {"kind":"status","taskId":"6f1c1b9e-1b1a-4a4e-9c55-0d8f1e2a3b4c","type":"sleep","tenant":"default","status":"active","attempt":1,"error":null,"at":"2026-12-04T12:00:00.123Z"}\n\n',
      },
    },
  });
}
