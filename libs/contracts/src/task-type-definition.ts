import type { BackoffPolicy } from './backoff-policy';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- class constructors of any arity
export type PayloadClass = new (...args: any[]) => object;

/** A JSON Schema fragment (the dialect of OpenAPI 3.1). */
export type JsonSchemaFragment = Record<string, unknown>;

/** Options a task gets unless its submission says otherwise. */
export interface TaskTypeDefaults {
  /** Total attempts, the first one included. */
  attempts: number;
  backoff: BackoffPolicy;
  /** An attempt running longer than this is aborted and counted as failed. */
  timeoutMs: number;
  /** Jobs of this type one worker process runs at once (overridable per deployment). */
  concurrency: number;
}

declare const resultType: unique symbol;

/** The result type of a task type, carried by the type system only (see `resultShape`). */
export interface ResultShape<R> {
  readonly [resultType]: R;
}

/** Names the result type of a task type: `result: resultShape<SleepResult>()`. It holds nothing at run time. */
export function resultShape<R>(): ResultShape<R> {
  return {} as ResultShape<R>;
}

/** What a DTO's JSON Schema (OpenAPI, `GET /task-types`) cannot read from its class-validator rules. */
export interface SchemaHints {
  /** Replace the generated schema of these properties (e.g. a value a `@Transform` also accepts). */
  properties?: Record<string, JsonSchemaFragment>;
  /** Keywords for the whole payload (e.g. a `@ValidateIf` between two fields). */
  schema?: JsonSchemaFragment;
}

/** One task type as its file declares it (see `defineTaskType`). */
export interface TaskTypeDeclaration<P extends PayloadClass = PayloadClass, R = unknown> {
  description: string;
  /** class-validator DTO: the API and the worker both validate payloads with it. */
  payload: P;
  /** What the handler returns, stored in tasks.result. */
  result: ResultShape<R>;
  defaults: TaskTypeDefaults;
  /** Only for what the payload's class-validator rules cannot say (see SchemaHints). */
  payloadSchema?: SchemaHints;
}

/**
 * Declares a task type, in its own file beside its payload DTO and result shape. Its name (and
 * so its queue) is the key it is registered under in `TASK_TYPES`.
 */
export function defineTaskType<P extends PayloadClass, R>(declaration: TaskTypeDeclaration<P, R>): TaskTypeDeclaration<P, R> {
  return declaration;
}

/** Everything taskq knows about one registered task type: its declaration, its defaults and its queue. */
export interface TaskTypeDefinition extends TaskTypeDefaults {
  description: string;
  payload: PayloadClass;
  /**
   * The type's name: the BullMQ queue is `{<queue>}` (see queueNameFor).
   * WARNING: the queue name is stored in Redis. Renaming it strands the jobs already queued.
   */
  queue: string;
  payloadSchema?: SchemaHints;
}
