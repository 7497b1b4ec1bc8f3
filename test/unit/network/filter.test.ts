import { describe, expect, it } from 'vitest';
import { filterBaseScript, guardScript, parseGuarded, unguardScript } from '../../../src/network/filter.js';

describe('sender filter scripts (bridge family)', () => {
  it('the base: own table, a map from veth to chain, one hook rule refilled in the same transaction', () => {
    expect(filterBaseScript('corral0')).toBe(
      [
        'add table bridge corral0',
        'add map bridge corral0 senders { type ifname : verdict; }',
        'add chain bridge corral0 prerouting { type filter hook prerouting priority -200; policy accept; }',
        'flush chain bridge corral0 prerouting',
        'add rule bridge corral0 prerouting iifname vmap @senders',
        '',
      ].join('\n'),
    );
  });

  it('a sender: its MAC and address only, IPv4 and ARP only, replacing earlier rules of the veth', () => {
    expect(guardScript('corral0', { hostVeth: 'cv3f9c1d2e4b5a0', mac: '02:42:0A:58:00:02', ip: '10.88.0.2' })).toBe(
      [
        'add chain bridge corral0 cv3f9c1d2e4b5a0',
        'flush chain bridge corral0 cv3f9c1d2e4b5a0',
        'add rule bridge corral0 cv3f9c1d2e4b5a0 ether saddr != 02:42:0a:58:00:02 drop',
        'add rule bridge corral0 cv3f9c1d2e4b5a0 ether type != { ip, arp } drop',
        'add rule bridge corral0 cv3f9c1d2e4b5a0 arp saddr ether != 02:42:0a:58:00:02 drop',
        'add rule bridge corral0 cv3f9c1d2e4b5a0 arp saddr ip != 10.88.0.2 drop',
        'add rule bridge corral0 cv3f9c1d2e4b5a0 ip saddr != 10.88.0.2 drop',
        'add element bridge corral0 senders { "cv3f9c1d2e4b5a0" : jump cv3f9c1d2e4b5a0 }',
        '',
      ].join('\n'),
    );
  });

  it('removing a sender cannot fail for its absence: element and chain are added first in the same transaction', () => {
    expect(unguardScript('corral0', 'cv3f9c1d2e4b5a0')).toBe(
      [
        'add chain bridge corral0 cv3f9c1d2e4b5a0',
        'add element bridge corral0 senders { "cv3f9c1d2e4b5a0" : jump cv3f9c1d2e4b5a0 }',
        'delete element bridge corral0 senders { "cv3f9c1d2e4b5a0" }',
        'delete chain bridge corral0 cv3f9c1d2e4b5a0',
        '',
      ].join('\n'),
    );
  });

  it('refuses what could inject nft syntax', () => {
    const s = { hostVeth: 'cv3f9c1d2e4b5a0', mac: '02:42:0a:58:00:02', ip: '10.88.0.2' };
    expect(() => guardScript('x; flush ruleset', s)).toThrow(/invalid nftables table/);
    expect(() => guardScript('corral0', { ...s, hostVeth: 'cv" ; flush' })).toThrow(/invalid veth name/);
    expect(() => guardScript('corral0', { ...s, hostVeth: 'prerouting' })).toThrow(/invalid veth name/);
    expect(() => guardScript('corral0', { ...s, mac: '02:42:0a:58:00' })).toThrow(/invalid MAC address/);
    expect(() => guardScript('corral0', { ...s, ip: '10.88.0.256' })).toThrow(/invalid IPv4 address/);
    expect(() => unguardScript('corral0', 'a b')).toThrow(/invalid veth name/);
  });

  it('lists the veths with a chain or a map element from nft -j', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'bridge', name: 't', handle: 1 } },
        { map: { family: 'bridge', name: 'senders', table: 't', type: 'ifname', map: 'verdict', elem: [['cvx', { jump: { target: 'cvx' } }], ['cvonlyelem', { jump: { target: 'cvonlyelem' } }]] } },
        { chain: { family: 'bridge', table: 't', name: 'prerouting', hook: 'prerouting' } },
        { chain: { family: 'bridge', table: 't', name: 'cvx' } },
        { chain: { family: 'bridge', table: 't', name: 'cvorphan' } },
      ],
    });
    expect(parseGuarded(json)).toEqual(['cvonlyelem', 'cvorphan', 'cvx']);
    expect(parseGuarded('')).toEqual([]);
  });
});
