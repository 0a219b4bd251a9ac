import type { FastifyInstance } from 'fastify';
import { ProblemException, problemType } from '../errors/problem.exception';
import { parseJsonBody, type JsonBodyLimits } from './json-body';

export interface BodyLimits extends JsonBodyLimits {
  /** Bytes; a larger body is refused with 413 before it is read further. */
  bodyLimitBytes: number;
  /** Bytes, for `POST /tasks/bulk` (up to 1,000 tasks in one body). */
  bulkBodyLimitBytes: number;
}

/** Methods whose body Fastify never reads. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'TRACE']);

/**
 * JSON is the only body the API reads: every other content type is a 415, bodies over the
 * limit a 413, and JSON that is malformed, too deep or carries prototype keys or NUL
 * characters a 400 — all before any route runs (errors reach the problem+json filter).
 * Compressed bodies are a 415 too (RFC 9110 §15.5.16): the API does not decode them, and
 * reading gzip bytes as JSON would only give a misleading "malformed JSON".
 */
export function installJsonBodyParser(instance: FastifyInstance, limits: BodyLimits): void {
  instance.removeAllContentTypeParsers();
  // Before the body is read (the answer depends on a header only); a hook error reaches the filter.
  instance.addHook('preParsing', (request, _reply, payload, done) => {
    const { headers } = request;
    const hasBody = !BODYLESS_METHODS.has(request.method) && (headers['transfer-encoding'] !== undefined || (headers['content-length'] ?? '0') !== '0');
    done(hasBody ? contentEncodingProblem(headers['content-encoding']) : null, payload);
  });
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string, limits));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  instance.addHook('onRoute', (route) => {
    if (route.url === '/tasks/bulk') route.bodyLimit = limits.bulkBodyLimitBytes;
  });
}

function contentEncodingProblem(encoding: string | undefined): ProblemException | null {
  if (encoding === undefined || /^\s*(identity)?\s*$/i.test(encoding)) return null;
  return new ProblemException({
    type: problemType('unsupported-media-type'),
    title: 'Unsupported media type',
    status: 415,
    detail: `Content-Encoding "${encoding.slice(0, 40)}" is not supported: send the JSON body uncompressed.`,
  });
}
