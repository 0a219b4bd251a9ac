import type { Principal } from '../auth/principal';
import { ProblemException } from '../errors/problem.exception';

/**
 * The tenant a read is confined to, given the `tenant` filter a request names. Admin keys
 * see every tenant: the one named, or all (undefined). Any other key sees its own tenant
 * only; naming it changes nothing, and naming another is a 403 (the filter is an admin's
 * privilege, not a malformed request).
 */
export function tenantFilterOf(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.allTenants) return requested;
  if (requested !== undefined && requested !== principal.tenant) {
    throw ProblemException.forbidden(`Only admin keys may read other tenants: this key reads tenant "${principal.tenant}" only.`);
  }
  return principal.tenant;
}
