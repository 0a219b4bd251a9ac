/** The bootstrap admin key (API_KEY) every test API accepts. At least 32 characters, like a real one. */
export const TEST_API_KEY = 'taskq-test-bootstrap-admin-key-0123456789';

/** `fetch` with the test API key, unless the request brings its own `authorization`. */
export function apiFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TEST_API_KEY}`);
  return fetch(url, { ...init, headers });
}
