/**
 * Thrown by a handler when retrying cannot help (bad address, 4xx answer, invalid payload):
 * the task goes straight to `dead` without spending its remaining attempts.
 */
export class PermanentTaskError extends Error {
  override readonly name = 'PermanentTaskError';
}
