import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** An outbound request's target (a webhook, a completion callback) resolves to a loopback, private, link-local or otherwise reserved address. */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
}

/** The guard's refusal in the error or in what caused it (the HTTP client wraps its connect errors); undefined when there is none. */
export function forbiddenAddressIn(error: unknown): ForbiddenAddressError | undefined {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current instanceof ForbiddenAddressError) return current;
  }
  return undefined;
}

/** Only globally routable unicast addresses are public. IPv4-mapped IPv6 is judged as IPv4. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export function assertPublicHost(hostname: string): void {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) && !isPublicAddress(bare)) throw new ForbiddenAddressError(`${bare} is not a public address`);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for the HTTP client's connect step: the addresses actually
 * connected to are checked, so DNS rebinding cannot slip a private address past the guard.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const forbidden = addresses.find((entry) => !isPublicAddress(entry.address));
    if (forbidden) return callback(new ForbiddenAddressError(`${hostname} resolves to ${forbidden.address}, which is not a public address`), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}
