import type { ConsoleSessionView } from '@taskq/contracts';
import { TaskqError, problemOf } from '@taskq/client';

/** The console's own routes (sign-in and out): the rest goes through the SDK. */
async function call<T>(method: string, init: { body?: unknown; csrfToken?: string } = {}): Promise<T> {
  const response = await fetch('/auth/session', {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.csrfToken ? { 'x-csrf-token': init.csrfToken } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: problemOf keeps the text
  }
  if (!response.ok) throw new TaskqError(response.status, problemOf(response.status, body, response.statusText));
  return body as T;
}

export const sessionApi = {
  /** The key goes to the API once, in this request's body; the browser keeps only the HttpOnly cookie. */
  signIn: (apiKey: string): Promise<ConsoleSessionView> => call('POST', { body: { apiKey } }),
  current: (): Promise<ConsoleSessionView> => call('GET'),
  signOut: (csrfToken: string): Promise<void> => call('DELETE', { csrfToken }),
};
