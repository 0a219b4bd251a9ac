import { isNetworkOutage, isPostgresOutage } from '@taskq/persistence';
import { isRedisOutage } from '@taskq/queue';

/** Which store an error says is unreachable. */
export type Dependency = 'PostgreSQL' | 'Redis' | 'a backing service';

/**
 * The store an error shows to be unreachable (PostgreSQL down or its database dropped, Redis
 * gone), or null for any other error. Routes that do not turn such failures into a 503
 * themselves still answer 503 rather than 500: the request was fine, the infrastructure was not.
 */
export function dependencyOutageOf(error: unknown): Dependency | null {
  if (isRedisOutage(error)) return 'Redis';
  if (isPostgresOutage(error)) return 'PostgreSQL';
  if (isNetworkOutage(error)) return 'a backing service';
  return null;
}
