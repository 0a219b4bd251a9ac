import { SetMetadata } from '@nestjs/common';
import { ApiKeyScope } from '@taskq/contracts';

export const REQUIRED_SCOPE = 'taskq:required-scope';

/** Any valid API key will do (e.g. discovering the task types). */
export const ANY_KEY = 'any-key';
/** No key at all (liveness, readiness): the API-key hook lets these paths through too. */
export const NO_KEY = 'no-key';

export type RouteAccess = ApiKeyScope | typeof ANY_KEY | typeof NO_KEY;

/** What a route (or every route of a controller) needs. Unmarked routes need `admin`: fail closed. */
export const RequiresScope = (access: RouteAccess): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPE, access);

/**
 * What a handler of `controller` needs: its own `@RequiresScope`, else its controller's, else
 * `admin`. The one reading of the metadata, shared by AccessGuard and the OpenAPI document.
 */
export function routeAccessOf(handler: object, controller: object): RouteAccess {
  return (Reflect.getMetadata(REQUIRED_SCOPE, handler) as RouteAccess | undefined) ?? (Reflect.getMetadata(REQUIRED_SCOPE, controller) as RouteAccess | undefined) ?? ApiKeyScope.Admin;
}
