import type { LookupAddress } from 'node:dns';
import { ForbiddenAddressError, assertPublicHost, isPublicAddress, publicOnlyLookup } from './outbound-address-guard';

describe('outbound-address-guard', () => {
  describe(isPublicAddress.name, () => {
    const sut = isPublicAddress;

    it.each([
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.0.0.1', 'private 10/8'],
      ['10.255.3.4', 'private 10/8'],
      ['172.16.0.1', 'private 172.16/12'],
      ['172.31.255.254', 'private 172.16/12'],
      ['192.168.1.10', 'private 192.168/16'],
      ['169.254.169.254', 'link-local (cloud metadata)'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['198.18.0.1', 'benchmarking'],
      ['::1', 'IPv6 loopback'],
      ['::', 'IPv6 unspecified'],
      ['fc00::1', 'unique local'],
      ['fd12:3456::1', 'unique local'],
      ['fe80::1', 'IPv6 link-local'],
      ['ff02::1', 'IPv6 multicast'],
      ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
      ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
      ['::ffff:10.0.0.1', 'IPv4-mapped private'],
      ['64:ff9b::7f00:1', 'NAT64 of loopback'],
      ['2001:db8::1', 'documentation'],
    ])('refuses %s (%s)', (address) => {
      expect(sut(address)).toBe(false);
    });

    it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1', '2a00:1450:4001:81a::200e', '::ffff:8.8.8.8'])('accepts the public address %s', (address) => {
      expect(sut(address)).toBe(true);
    });

    it.each(['', 'localhost', 'example.com', '999.1.1.1'])('refuses %j, which is not an address', (value) => {
      expect(sut(value)).toBe(false);
    });
  });

  describe(assertPublicHost.name, () => {
    const sut = assertPublicHost;

    it.each(['127.0.0.1', '[::1]', '[::ffff:7f00:1]', '10.1.2.3', '0.0.0.0'])('throws ForbiddenAddressError for the literal %s', (host) => {
      expect(() => sut(host)).toThrow(ForbiddenAddressError);
      expect(() => sut(host)).toThrow(/is not a public address/);
    });

    it.each(['8.8.8.8', '[2606:4700::1]', 'example.com', 'localhost'])('lets %s through (names are checked at connect time)', (host) => {
      expect(() => sut(host)).not.toThrow();
    });
  });

  describe(publicOnlyLookup.name, () => {
    // IP literals resolve without DNS traffic, so these stay offline.
    const lookupOf = (hostname: string, all: boolean): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }> =>
      new Promise((resolve) => publicOnlyLookup(hostname, { all }, (error, address, family) => resolve({ error, address, family })));

    it('refuses a host that resolves to a private address', async () => {
      const { error } = await lookupOf('127.0.0.1', false);

      expect(error).toBeInstanceOf(ForbiddenAddressError);
      expect(error?.message).toContain('127.0.0.1');
    });

    it('answers with one address, or all of them, for a public host', async () => {
      await expect(lookupOf('8.8.8.8', false)).resolves.toEqual({ error: null, address: '8.8.8.8', family: 4 });
      await expect(lookupOf('8.8.8.8', true)).resolves.toEqual({ error: null, address: [{ address: '8.8.8.8', family: 4 }], family: undefined });
    });
  });
});
