import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/errors.js';
import { chooseSubnet, parseRoutes } from '../../../src/network/subnet.js';

// `ip -j -4 route show table all` on the development machine.
const HOST = parseRoutes(
  '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]},{"type":"local","dst":"127.0.0.0/8","dev":"lo","table":"local","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]},{"type":"local","dst":"127.0.0.1","dev":"lo","table":"local","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]},{"type":"broadcast","dst":"192.0.2.255","dev":"eth0","table":"local","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]}]',
);

describe('chooseSubnet', () => {
  it('takes the first candidate when no route overlaps it (the default route does not count)', () => {
    expect(chooseSubnet(HOST)).toBe('10.88.0.0/16');
  });

  it('skips candidates overlapping a route, a wider route, or a local address', () => {
    const routes = [
      ...HOST,
      ...parseRoutes('[{"dst":"10.88.0.0/16","dev":"cni-podman0"},{"dst":"10.89.3.0/24","dev":"wg0"},{"dst":"10.90.0.0/15","dev":"tun0"},{"type":"local","dst":"172.30.0.5","dev":"eth1","table":"local"}]'),
    ];
    expect(chooseSubnet(routes)).toBe('172.31.0.0/16');
  });

  it('ignores the routes of our own bridge, so a restart keeps the subnet', () => {
    const routes = parseRoutes('[{"dst":"10.88.0.0/16","dev":"corral0","protocol":"kernel"}]');
    expect(chooseSubnet(routes, undefined, ['corral0'])).toBe('10.88.0.0/16');
    expect(chooseSubnet(routes)).toBe('10.89.0.0/16');
  });

  it('a 10.0.0.0/8 route rules out every 10.x candidate', () => {
    expect(chooseSubnet(parseRoutes('[{"dst":"10.0.0.0/8","dev":"eth1"}]'))).toBe('172.30.0.0/16');
  });

  it('fails clearly when all candidates are taken', () => {
    expect(() => chooseSubnet(parseRoutes('[{"dst":"10.0.0.0/8","dev":"x"}]'), ['10.1.0.0/16', '10.2.0.0/24'])).toThrow(
      /choose subnet: every candidate \(10.1.0.0\/16, 10.2.0.0\/24\) overlaps a host route/,
    );
    expect(() => chooseSubnet([], ['10.1.0.1/16'])).toThrow(NetworkError);
  });

  it('reads an empty answer as no routes', () => {
    expect(parseRoutes('')).toEqual([]);
    expect(chooseSubnet(parseRoutes('[]'), ['192.168.200.0/24'])).toBe('192.168.200.0/24');
  });
});
