import type { ApiKeyScope } from '@taskq/contracts';

/** Who is calling: the API key (or the board's operator) a request was authenticated with. */
export interface Principal {
  /** `bootstrap` for the key from API_KEY; else the key's prefix. */
  keyPrefix: string;
  name: string;
  scopes: readonly ApiKeyScope[];
  tenant: string;
  /** Admin keys act on every tenant's tasks. */
  allTenants: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The tenant a query must stay within: undefined for principals that see every tenant. */
export function tenantScope(principal: Principal): string | undefined {
  return principal.allTenants ? undefined : principal.tenant;
}
