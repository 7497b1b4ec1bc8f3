import { describe, expect, it } from 'vitest';
import { broadcast, contains, firstHost, formatCidr, formatIpv4, lastHost, overlaps, parseCidr, parseIpv4 } from '../../../src/network/ipv4.js';

describe('ipv4', () => {
  it('parses and formats dotted quads', () => {
    expect(formatIpv4(parseIpv4('10.88.0.2')!)).toBe('10.88.0.2');
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['10.88.0', '10.88.0.256', '10.088.0.1', 'a.b.c.d', '1.2.3.4 ', '']) expect(parseIpv4(bad)).toBeUndefined();
  });

  it('parses prefixes, strictly for subnets and leniently for routes', () => {
    expect(parseCidr('10.88.0.0/16')).toEqual({ network: parseIpv4('10.88.0.0'), prefix: 16 });
    expect(parseCidr('10.88.0.1/16')).toBeUndefined();
    expect(formatCidr(parseCidr('10.88.0.1/16', false)!)).toBe('10.88.0.0/16');
    expect(parseCidr('192.0.2.2', false)!.prefix).toBe(32);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });

  it('computes hosts, broadcast, containment and overlap', () => {
    const c = parseCidr('10.88.0.0/16')!;
    expect(formatIpv4(firstHost(c))).toBe('10.88.0.1');
    expect(formatIpv4(lastHost(c))).toBe('10.88.255.254');
    expect(formatIpv4(broadcast(c))).toBe('10.88.255.255');
    expect(contains(c, parseIpv4('10.88.7.1')!)).toBe(true);
    expect(contains(c, parseIpv4('10.89.0.1')!)).toBe(false);
    expect(overlaps(c, parseCidr('10.0.0.0/8')!)).toBe(true);
    expect(overlaps(parseCidr('10.0.0.0/8')!, c)).toBe(true);
    expect(overlaps(c, parseCidr('10.89.0.0/16')!)).toBe(false);
    expect(overlaps(parseCidr('0.0.0.0/0')!, c)).toBe(true);
  });
});
