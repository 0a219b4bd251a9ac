import type { FastifyInstance } from 'fastify';
import type { FieldError } from '@taskq/contracts';
import { ProblemException } from '../errors/problem.exception';
import { FORBIDDEN_KEYS, unstorableText } from './json-body';

const strings = (value: unknown): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/** What is wrong with a path parameter's or a query value's text, if anything. */
function textProblem(field: string, text: string): string | null {
  const flaw = unstorableText(text);
  if (flaw === 'nul') return `${field} must not contain the NUL character`;
  if (flaw === 'lone-surrogate') return `${field} must be valid Unicode`;
  return null;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  for (const _key in value as object) return false;
  return true;
}

/** The field errors of a request's path parameters and query string. */
export function urlInputErrors(params: unknown, query: unknown): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries((params ?? {}) as Record<string, unknown>)) {
    const problem = strings(value).map((text) => textProblem(name, text)).find((message) => message !== null);
    if (problem) errors.push({ field: name, messages: [problem] });
  }
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const shown = name.replaceAll('\u0000', '\\u0000');
    if (FORBIDDEN_KEYS.has(name)) errors.push({ field: shown, messages: [`the query parameter "${name}" is not allowed`] });
    const problem = textProblem(shown, name) ?? strings(value).map((text) => textProblem(shown, text)).find((message) => message !== null);
    if (problem) errors.push({ field: shown, messages: [problem] });
  }
  return errors;
}

/**
 * Path parameters and query strings reach PostgreSQL and Redis like bodies do: refuse the
 * NUL characters and unpaired surrogates PostgreSQL cannot store (it would fail the query:
 * a 5xx for the client's mistake) and prototype keys in the query, with a 400 — after
 * authentication, before any body is read.
 */
export function installUrlInputGuard(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, _reply, done) => {
    // An unknown route has only a catch-all parameter: it gets its 404 (or 405).
    if (request.is404) {
      done();
      return;
    }
    if (isEmpty(request.params) && isEmpty(request.query)) {
      done();
      return;
    }
    const errors = urlInputErrors(request.params, request.query);
    done(errors.length > 0 ? ProblemException.validation(errors, 'The URL is not valid: see errors[] for each failing path or query parameter.') : undefined);
  });
}
