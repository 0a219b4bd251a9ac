"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.API_KEY_SCOPES = exports.ApiKeyScope = void 0;
exports.scopeAllows = scopeAllows;
/**
 * What an API key may do. `admin` includes the other two and adds the dead-letter queue's
 * changes, schedules and keys; admin keys also see every tenant's tasks.
 * WARNING: stored in PostgreSQL (api_keys.scopes).
 */
var ApiKeyScope;
(function (ApiKeyScope) {
    ApiKeyScope["TasksWrite"] = "tasks:write";
    ApiKeyScope["TasksRead"] = "tasks:read";
    ApiKeyScope["Admin"] = "admin";
})(ApiKeyScope || (exports.ApiKeyScope = ApiKeyScope = {}));
exports.API_KEY_SCOPES = [ApiKeyScope.TasksWrite, ApiKeyScope.TasksRead, ApiKeyScope.Admin];
/** True when a key with `granted` scopes may use a route that needs `required`. */
function scopeAllows(granted, required) {
    return granted.includes(required) || granted.includes(ApiKeyScope.Admin);
}
//# sourceMappingURL=api-key-scope.js.map