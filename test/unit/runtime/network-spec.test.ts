import { describe, expect, it } from 'vitest';
import { configFromRequest, parseExpose, parseNetworkRequest } from '../../../src/runtime/spec.js';

describe('parseNetworkRequest', () => {
  it('defaults to the default bridge network, nothing published, the host\'s DNS', () => {
    expect(parseNetworkRequest({})).toEqual({ mode: 'bridge', networks: [{ network: 'bridge', ip: null, aliases: [] }], ports: [], expose: [], publishAll: false, dns: [] });
    expect(configFromRequest({ template: 'busybox' }).network.mode).toBe('bridge');
  });

  it('takes the daemon\'s default when no network is named', () => {
    expect(configFromRequest({ template: 'busybox' }, undefined, undefined, { defaultNetwork: ['none'] }).network.mode).toBe('none');
    expect(configFromRequest({ template: 'busybox', network: ['bridge'] }, undefined, undefined, { defaultNetwork: ['none'] }).network.mode).toBe('bridge');
  });

  it('takes several networks in order; --ip goes to the first, aliases to all', () => {
    expect(parseNetworkRequest({ network: ['front', 'back'], ip: '10.89.0.9', networkAliases: ['db', 'db.local'] }).networks).toEqual([
      { network: 'front', ip: '10.89.0.9', aliases: ['db', 'db.local'] },
      { network: 'back', ip: null, aliases: ['db', 'db.local'] },
    ]);
  });

  it('parses -p, --expose (deduplicated), -P and --dns', () => {
    const n = parseNetworkRequest({ publish: ['8080:80', '127.0.0.1:5353:53/udp'], expose: ['80', '80/tcp', '53/UDP'], publishAll: true, dns: ['192.0.2.53', '2001:db8::53'] });
    expect(n.ports).toEqual([
      { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ]);
    expect(n.expose).toEqual([{ port: 80, protocol: 'tcp' }, { port: 53, protocol: 'udp' }]);
    expect(n.publishAll).toBe(true);
    expect(n.dns).toEqual(['192.0.2.53', '2001:db8::53']);
  });

  it('none and host modes stand alone and take no addresses or ports', () => {
    expect(parseNetworkRequest({ network: ['none'] })).toMatchObject({ mode: 'none', networks: [] });
    expect(parseNetworkRequest({ network: ['host'], dns: ['192.0.2.1'] })).toMatchObject({ mode: 'host', networks: [], dns: ['192.0.2.1'] });
  });

  it.each([
    [{ network: ['host', 'bridge'] }, /--network host cannot be combined/],
    [{ network: ['none'], publish: ['80:80'] }, /-p: need a bridge network; --network none has only loopback/],
    [{ network: ['host'], ip: '10.0.0.2', publishAll: true }, /--ip, -P: need a bridge network; with --network host/],
    [{ network: ['a', 'a'] }, /--network: a is given twice/],
    [{ network: ['container:web'] }, /another container's network namespace is not supported/],
    [{ network: ['bad/name'] }, /invalid --network "bad\/name"/],
    [{ network: [''] }, /invalid --network "": empty/],
    [{ ip: '10.0.0.256' }, /invalid --ip "10.0.0.256": not an IPv4 address/],
    [{ ip: '::1' }, /not an IPv4 address/],
    [{ networkAliases: ['-x'] }, /invalid --network-alias "-x"/],
    [{ publish: ['80'] }, /invalid -p "80": a host port and a container port are required/],
    [{ publish: ['8080:80', '8080:81'] }, /host port 0\.0\.0\.0:8080\/tcp is already given/],
    [{ publish: ['[::1]:80:80'] }, /IPv6 host addresses are not supported yet/],
    [{ dns: ['resolver'] }, /invalid --dns "resolver": not an IP address/],
    [{ publish: '80:80' }, /publish: expected a list/],
  ])('refuses %j', (req, message) => {
    expect(() => parseNetworkRequest(req as never)).toThrow(message);
  });

  it('refuses unknown fields next to the network ones', () => {
    expect(() => configFromRequest({ template: 'busybox', ports: ['80:80'] })).toThrow(/unknown field "ports"/);
  });
});

describe('parseExpose', () => {
  it.each([
    ['80', { port: 80, protocol: 'tcp' }],
    ['53/udp', { port: 53, protocol: 'udp' }],
  ])('%s', (s, want) => expect(parseExpose(s)).toEqual(want));
  it.each(['0', '65536', '80/sctp', '80-90', 'http'])('refuses %s', (s) => expect(() => parseExpose(s)).toThrow(/invalid --expose/));
});
