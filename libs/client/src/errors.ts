/** A field the API refused, as its problem documents name them (`payload.ms`, `tasks.3.type`). */
export interface ProblemFieldError {
  field: string;
  messages: string[];
}

/** The API's error body (RFC 9457 problem details). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemFieldError[];
  requestId?: string;
  [extension: string]: unknown;
}

/** The API answered with an error: `status` and its problem document. */
export class TaskqError extends Error {
  override readonly name = 'TaskqError';

  constructor(
    readonly status: number,
    readonly problem: ProblemDocument,
  ) {
    const fields = problem.errors?.map((error) => `${error.field}: ${error.messages.join(', ')}`).join('; ');
    super(fields ? `${problem.detail} (${fields})` : problem.detail);
  }
}

/** The API could not be reached (refused, reset, DNS), after any retries. */
export class TaskqNetworkError extends Error {
  override readonly name = 'TaskqNetworkError';
}

/** A body that is not a problem document still becomes one, so callers handle one shape. */
export function problemOf(status: number, body: unknown, statusText: string): ProblemDocument {
  if (body !== null && typeof body === 'object' && typeof (body as ProblemDocument).detail === 'string') return body as ProblemDocument;
  return { type: 'about:blank', title: statusText || `HTTP ${status}`, status, detail: typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${status}` };
}
