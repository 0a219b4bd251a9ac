import { ProblemException, problemType } from '../errors/problem.exception';

/** Keys that could reach an object's prototype when a body (or a query) is merged or assigned somewhere. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** An unpaired UTF-16 surrogate (`"\ud800"` is valid JSON): not Unicode, and jsonb refuses it. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why PostgreSQL could not store a text (a NUL character, an unpaired surrogate), or null. */
export function unstorableText(text: string): 'nul' | 'lone-surrogate' | null {
  if (text.includes('\u0000')) return 'nul';
  if (LONE_SURROGATE.test(text)) return 'lone-surrogate';
  return null;
}

export interface JsonBodyLimits {
  /** Deepest nesting of objects and arrays accepted. */
  maxDepth: number;
}

const invalid = (detail: string): ProblemException =>
  new ProblemException({ type: problemType('invalid-json'), title: 'Invalid JSON body', status: 400, detail });

/**
 * Parses a request body as JSON, refusing what no task needs and what could hurt the
 * server: nesting deeper than `maxDepth` (checked on the raw text, before the parser could
 * recurse that deep), `__proto__`/`constructor`/`prototype` keys, and NUL characters or
 * unpaired surrogates in any string or key (PostgreSQL's jsonb cannot store them either).
 */
export function parseJsonBody(text: string, limits: JsonBodyLimits): unknown {
  const depth = nestingDepth(text);
  if (depth > limits.maxDepth) throw invalid(`JSON is nested ${depth} levels deep; at most ${limits.maxDepth} are accepted.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`Malformed JSON: ${(error as Error).message}`);
  }
  const problem = findForbidden(value, '');
  if (problem) throw invalid(problem);
  return value;
}

/** Deepest bracket nesting outside strings; linear, no recursion. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b /* { */ || char === 0x5b /* [ */) deepest = Math.max(deepest, ++depth);
    else if (char === 0x7d /* } */ || char === 0x5d /* ] */) depth--;
  }
  return deepest;
}

/** Iterative walk (the depth is already bounded, but no recursion is needed either). */
function findForbidden(root: unknown, rootPath: string): string | null {
  const stack: Array<[unknown, string]> = [[root, rootPath]];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      const flaw = unstorableText(value);
      if (flaw === 'nul') return `Strings must not contain the NUL character (\\u0000)${path ? ` (at ${path})` : ''}.`;
      if (flaw === 'lone-surrogate') return `Strings must be valid Unicode: an unpaired surrogate (\\ud800-\\udfff) is not allowed${path ? ` (at ${path})` : ''}.`;
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push([item, `${path}[${index}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const at = path ? `${path}.${key}` : key;
        if (FORBIDDEN_KEYS.has(key)) return `The key "${key}" is not allowed (at ${at}).`;
        const flaw = unstorableText(key);
        if (flaw === 'nul') return `Keys must not contain the NUL character (\\u0000) (at ${path || 'the top level'}).`;
        if (flaw === 'lone-surrogate') return `Keys must be valid Unicode: an unpaired surrogate is not allowed (at ${path || 'the top level'}).`;
        stack.push([item, at]);
      }
    }
  }
  return null;
}
