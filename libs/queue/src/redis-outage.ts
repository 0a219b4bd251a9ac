import { QueueUnavailableError } from './task-producer';

// The last ones are a Redis Cluster's: no quorum yet, a slot without a master during a fail-over.
const UNAVAILABLE_MESSAGES =
  /Connection is closed|Stream isn't writeable|max retries per request|enableOfflineQueue|Command timed out|Cluster isn't ready|CLUSTERDOWN|TRYAGAIN|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available/i;

/** The error says Redis is unreachable (the producer refused, a closed or timed-out connection). */
export function isRedisOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof QueueUnavailableError || current.name === 'MaxRetriesPerRequestError' || UNAVAILABLE_MESSAGES.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
