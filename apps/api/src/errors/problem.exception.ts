import { HttpException } from '@nestjs/common';
import type { FieldError } from '@taskq/contracts';

/** RFC 9457 problem details. `type` is stable: clients may branch on it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  requestId?: string;
  [extension: string]: unknown;
}

export const problemType = (slug: string): string => `/problems/${slug}`;

/** What every 503 tells clients to wait before they retry, unless it names its own (Retry-After, seconds). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * An HTTP error whose body is already a problem document, with response headers if any
 * (Retry-After). `cause`: the failure behind it, for the log only.
 */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Record<string, string> = {},
    cause?: unknown,
  ) {
    super(problem, problem.status, cause === undefined ? undefined : { cause });
  }

  static validation(errors: FieldError[], detail = 'The request is not valid: see errors[] for each failing field.'): ProblemException {
    return new ProblemException({ type: problemType('validation-error'), title: 'Invalid request', status: 400, detail, errors });
  }

  /** A 503 for a dependency that does not answer; `cause` is its error, which the log names. */
  static unavailable(detail: string, cause?: unknown): ProblemException {
    return new ProblemException({ type: problemType('service-unavailable'), title: 'Service unavailable', status: 503, detail }, {}, cause);
  }

  static unauthorized(detail: string): ProblemException {
    return new ProblemException({ type: problemType('unauthorized'), title: 'Unauthorized', status: 401, detail });
  }

  static forbidden(detail: string): ProblemException {
    return new ProblemException({ type: problemType('forbidden'), title: 'Forbidden', status: 403, detail });
  }

  static notFound(detail: string): ProblemException {
    return new ProblemException({ type: problemType('not-found'), title: 'Not found', status: 404, detail });
  }
}
