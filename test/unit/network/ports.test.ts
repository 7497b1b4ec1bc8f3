import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { listenerBlocks, parseProcNet, readListeners } from '../../../src/network/listeners.js';
import { formatPortMapping, mappingsClash, parsePortMapping, parsePortMappings } from '../../../src/network/ports.js';

describe('parsePortMapping', () => {
  it('reads HOSTPORT:CTRPORT, an optional host address and protocol', () => {
    expect(parsePortMapping('8080:80')).toEqual({ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('127.0.0.1:5353:53/udp')).toEqual({ hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' });
    expect(parsePortMapping('0.0.0.0:1:65535/TCP')).toEqual({ hostIp: '0.0.0.0', hostPort: 1, containerPort: 65535, protocol: 'tcp' });
  });

  it.each([
    ['80', /a host port and a container port are required/],
    ['8080:80/sctp', /protocol "sctp" is not tcp or udp/],
    ['0:80', /host port 0 is not in 1-65535/],
    ['8080:70000', /container port 70000 is not in 1-65535/],
    ['8080:http', /container port "http" is not a number/],
    [':8080:80', /the host address before the first ":" is empty/],
    ['127.0.0.1::80', /the host port is empty \(random host ports are not supported yet\)/],
    ['localhost:8080:80', /host address "localhost" is not an IPv4 address/],
    ['[::1]:8080:80', /IPv6 host addresses are not supported yet/],
    ['8000-8010:80-90', /port ranges are not supported yet/],
  ])('refuses %s, naming the flag and the form', (spec, why) => {
    let err: unknown;
    try {
      parsePortMapping(spec, '--publish');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toContain(`invalid --publish ${JSON.stringify(spec)}: `);
    expect((err as Error).message).toContain('[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]');
  });

  it('refuses the same host port twice in one command, across addresses covering each other', () => {
    expect(() => parsePortMappings(['8080:80', '127.0.0.1:8080:81'])).toThrow('invalid -p "127.0.0.1:8080:81": host port 127.0.0.1:8080/tcp is already given as 0.0.0.0:8080->80/tcp');
    expect(parsePortMappings(['8080:80', '8080:80/udp', '127.0.0.1:8081:80', '127.0.0.2:8081:80']).map(formatPortMapping)).toEqual([
      '0.0.0.0:8080->80/tcp',
      '0.0.0.0:8080->80/udp',
      '127.0.0.1:8081->80/tcp',
      '127.0.0.2:8081->80/tcp',
    ]);
  });

  it('clashes only on the same protocol and port when one address covers the other', () => {
    const m = parsePortMapping('127.0.0.1:80:80');
    expect(mappingsClash(m, parsePortMapping('80:1'))).toBe(true);
    expect(mappingsClash(m, parsePortMapping('127.0.0.2:80:1'))).toBe(false);
    expect(mappingsClash(m, parsePortMapping('127.0.0.1:80:1/udp'))).toBe(false);
  });
});

// Lines from /proc/net on x86 (little-endian words).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1575 1 0000000064f36eb5 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1576 1 0000000064f36eb5 100 0 0 10 0
   2: 0202000A:D431 0102000A:0016 01 00000000:00000000 00:00000000 00000000     0        0 1577 1 0000000064f36eb5 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   2: 00000000000000000000000001000000:0052 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
  101: 0100007F:A1B2 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
`;

describe('listeners', () => {
  it('reads TCP LISTEN and unconnected UDP sockets, decoding host-order words', () => {
    expect(parseProcNet(TCP, 'tcp', 'LE')).toEqual([
      { protocol: 'tcp', address: '0.0.0.0', port: 2024 },
      { protocol: 'tcp', address: '127.0.0.1', port: 8080 },
    ]);
    expect(parseProcNet(TCP6, 'tcp', 'LE')).toEqual([
      { protocol: 'tcp', address: '::', port: 80 },
      { protocol: 'tcp', address: '127.0.0.1', port: 81 },
      { protocol: 'tcp', address: '00000000000000000000000000000001', port: 82 },
    ]);
    expect(parseProcNet(UDP, 'udp', 'LE')).toEqual([{ protocol: 'udp', address: '0.0.0.0', port: 5353 }]);
  });

  it('a listener blocks a mapping it would be shadowed by', () => {
    const p = (s: string) => parsePortMapping(s);
    const l = (address: string, port: number, protocol: 'tcp' | 'udp' = 'tcp') => ({ protocol, address, port });
    expect(listenerBlocks(l('0.0.0.0', 80), p('127.0.0.1:80:80'))).toBe(true);
    expect(listenerBlocks(l('::', 80), p('80:80'))).toBe(true);
    expect(listenerBlocks(l('127.0.0.1', 80), p('80:80'))).toBe(true);
    expect(listenerBlocks(l('127.0.0.1', 80), p('127.0.0.2:80:80'))).toBe(false);
    expect(listenerBlocks(l('0.0.0.0', 80, 'udp'), p('80:80'))).toBe(false);
    expect(listenerBlocks(l('0.0.0.0', 81), p('80:80'))).toBe(false);
    expect(listenerBlocks(l('00000000000000000000000000000001', 80), p('80:80'))).toBe(false);
  });

  it('reads the four tables of a /proc/net directory, tolerating missing IPv6 ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-procnet-'));
    try {
      writeFileSync(join(dir, 'tcp'), TCP);
      writeFileSync(join(dir, 'udp'), UDP);
      const ls = await readListeners(dir);
      expect(ls.map((x) => `${x.protocol} ${x.address}:${x.port}`)).toEqual(['tcp 0.0.0.0:2024', 'tcp 127.0.0.1:8080', 'udp 0.0.0.0:5353']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
