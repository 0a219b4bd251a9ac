/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // A cluster URL lists several hosts (redis-cluster://a:7000,b:7001), which URL refuses.
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]/i.test(url)) return '<unparsable URL>';
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
  }
}
