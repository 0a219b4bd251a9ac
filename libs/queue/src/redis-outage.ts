import { QueueUnavailableError } from './task-producer';

const UNAVAILABLE_MESSAGES = /Connection is closed|Stream isn't writeable|max retries per request|enableOfflineQueue|Command timed out/i;

/** The error says Redis is unreachable (the producer refused, a closed or timed-out connection). */
export function isRedisOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof QueueUnavailableError || current.name === 'MaxRetriesPerRequestError' || UNAVAILABLE_MESSAGES.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
