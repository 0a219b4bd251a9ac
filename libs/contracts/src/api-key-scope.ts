/**
 * What an API key may do. `admin` includes the other two and adds the dead-letter queue's
 * changes, schedules and keys; admin keys also see every tenant's tasks.
 * WARNING: stored in PostgreSQL (api_keys.scopes).
 */
export enum ApiKeyScope {
  TasksWrite = 'tasks:write',
  TasksRead = 'tasks:read',
  Admin = 'admin',
}

export const API_KEY_SCOPES: readonly ApiKeyScope[] = [ApiKeyScope.TasksWrite, ApiKeyScope.TasksRead, ApiKeyScope.Admin];

/** True when a key with `granted` scopes may use a route that needs `required`. */
export function scopeAllows(granted: readonly ApiKeyScope[], required: ApiKeyScope): boolean {
  return granted.includes(required) || granted.includes(ApiKeyScope.Admin);
}
