/** SQLSTATE classes and codes that mean "PostgreSQL cannot serve us now", not "the query is wrong". */
const UNAVAILABLE_CODES = /^(08...|57P0[1-3]|53300|3D000)$/; // connection exceptions, shutdown, too many connections, database gone
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end/i;
/** Socket errors: on a PostgreSQL call, the server is away. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** The errors an error wraps, outermost first: TypeORM keeps the driver's error, Error.cause chains the rest. */
export function* errorChain(error: unknown, depth = 5): Generator<Error> {
  for (let current = error, level = 0; current instanceof Error && level < depth; level++) {
    yield current;
    current = (current as { driverError?: unknown }).driverError ?? current.cause;
  }
}

const codeOf = (error: Error): string | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
};

/** The error says PostgreSQL itself is unreachable or refusing work (down, restarting, database gone). */
export function isPostgresOutage(error: unknown): boolean {
  for (const current of errorChain(error)) {
    const code = codeOf(current);
    if ((code !== undefined && UNAVAILABLE_CODES.test(code)) || UNAVAILABLE_MESSAGES.test(current.message)) return true;
  }
  return false;
}

/** A socket error somewhere in the chain: whichever server the call went to is away. */
export function isNetworkOutage(error: unknown): boolean {
  for (const current of errorChain(error)) {
    const code = codeOf(current);
    if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return true;
  }
  return false;
}

/** What a PostgreSQL call's error means for a caller that can wait: the store is away, so retry later. */
export const isStoreUnavailable = (error: unknown): boolean => isPostgresOutage(error) || isNetworkOutage(error);
