import { QueueUnavailableError } from '@taskq/queue';

/** Which store an error says is unreachable. */
export type Dependency = 'PostgreSQL' | 'Redis' | 'a backing service';

/** SQLSTATE classes and codes that mean "PostgreSQL cannot serve us now", not "the query is wrong". */
const POSTGRES_UNAVAILABLE = /^(08...|57P0[1-3]|53300|3D000)$/; // connection exceptions, shutdown, too many connections, database gone
const POSTGRES_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end/i;
const REDIS_MESSAGES = /Connection is closed|Stream isn't writeable|max retries per request|enableOfflineQueue/i;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/**
 * The store an error shows to be unreachable (PostgreSQL down or its database dropped, Redis
 * gone), or null for any other error. Routes that do not turn such failures into a 503
 * themselves still answer 503 rather than 500: the request was fine, the infrastructure was not.
 */
export function dependencyOutageOf(error: unknown): Dependency | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof QueueUnavailableError || current.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.test(current.message)) return 'Redis';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && POSTGRES_UNAVAILABLE.test(code)) return 'PostgreSQL';
    if (POSTGRES_MESSAGES.test(current.message)) return 'PostgreSQL';
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'a backing service';
    // TypeORM keeps the driver's error; Error.cause chains the rest.
    current = (current as { driverError?: unknown }).driverError ?? current.cause;
  }
  return null;
}
