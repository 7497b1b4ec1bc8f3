import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NetworkError, ValidationError } from '../../../src/errors.js';
import { Ipam, macFor } from '../../../src/network/ipam.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corral-ipam-'));
  file = join(dir, 'network', 'corral0', 'leases.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const veth = (id: string): { hostVeth: string } => ({ hostVeth: `cv${id}` });

describe('Ipam', () => {
  it('creates the file with subnet and gateway, and keeps an existing subnet', async () => {
    const ipam = new Ipam(file);
    const f = await ipam.init('corral0', '10.88.0.0/16');
    expect(f).toMatchObject({ version: 1, network: 'corral0', subnet: '10.88.0.0/16', gateway: '10.88.0.1', leases: {} });
    expect(JSON.parse(readFileSync(file, 'utf8')).subnet).toBe('10.88.0.0/16');
    await ipam.lease('a', veth('a'));
    await expect(ipam.init('corral0', '10.89.0.0/16')).rejects.toThrow(ConflictError);
    await expect(ipam.init('corral0', '10.88.0.0/16')).resolves.toMatchObject({ subnet: '10.88.0.0/16' });
  });

  it('hands out addresses after the gateway, in order, with a MAC derived from each', async () => {
    const ipam = new Ipam(file, () => new Date('2026-11-21T06:30:00Z'));
    await ipam.init('corral0', '10.88.0.0/16');
    const a = await ipam.lease('a', veth('a'));
    const b = await ipam.lease('b', veth('b'));
    expect(a).toEqual({ ip: '10.88.0.2', mac: '02:42:0a:58:00:02', hostVeth: 'cva', leasedAt: '2026-11-21T06:30:00.000Z' });
    expect(b.ip).toBe('10.88.0.3');
    expect(await ipam.lease('a', veth('a'))).toEqual(a);
  });

  it('never hands out an address twice, also from a fresh instance reading the file (after a crash)', async () => {
    await new Ipam(file).init('n', '10.0.0.0/29'); // hosts .1 (gateway) .. .6
    const seen = new Set<string>();
    for (const id of ['a', 'b', 'c']) seen.add((await new Ipam(file).lease(id, veth(id))).ip);
    // Concurrent leases in one process are serialized.
    const ipam = new Ipam(file);
    const more = await Promise.all(['d', 'e'].map((id) => ipam.lease(id, veth(id))));
    for (const l of more) seen.add(l.ip);
    expect([...seen].sort()).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    await expect(ipam.lease('f', veth('f'))).rejects.toThrow(/subnet 10.0.0.0\/29 is full \(5 addresses\)/);
  });

  it('frees on release, idempotently, and does not reuse the freed address at once', async () => {
    const ipam = new Ipam(file);
    await ipam.init('n', '10.0.0.0/24');
    await ipam.lease('a', veth('a'));
    await ipam.lease('b', veth('b'));
    expect(await ipam.release('a')).toMatchObject({ ip: '10.0.0.2' });
    expect(await ipam.release('a')).toBeUndefined();
    expect((await ipam.lease('c', veth('c'))).ip).toBe('10.0.0.4');
    expect(Object.keys(await ipam.list()).sort()).toEqual(['b', 'c']);
  });

  it('wraps around to freed addresses when it reaches the end', async () => {
    const ipam = new Ipam(file);
    await ipam.init('n', '10.0.0.0/29');
    for (const id of ['a', 'b', 'c', 'd', 'e']) await ipam.lease(id, veth(id));
    await ipam.release('b');
    expect((await ipam.lease('f', veth('f'))).ip).toBe('10.0.0.3');
  });

  it('validates a fixed --ip: inside the subnet, not network/broadcast/gateway, and free', async () => {
    const ipam = new Ipam(file);
    await ipam.init('corral0', '10.88.0.0/16');
    expect((await ipam.lease('a', { hostVeth: 'cva', ip: '10.88.7.7' })).ip).toBe('10.88.7.7');
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: '10.88.7.7' })).rejects.toThrow('--ip 10.88.7.7: already in use on corral0 by container a');
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: '10.88.7.7' })).rejects.toBeInstanceOf(ConflictError);
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: '10.89.0.2' })).rejects.toThrow("invalid --ip 10.89.0.2: outside network corral0's subnet 10.88.0.0/16");
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: '10.88.0.1' })).rejects.toThrow('invalid --ip 10.88.0.1: the gateway of network corral0');
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: '10.88.0.0' })).rejects.toThrow(/network address/);
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: '10.88.255.255' })).rejects.toThrow(/broadcast address/);
    await expect(ipam.lease('b', { hostVeth: 'cvb', ip: 'ten' })).rejects.toThrow(ValidationError);
    await expect(ipam.lease('a', { hostVeth: 'cva', ip: '10.88.0.9' })).rejects.toThrow(/already has 10.88.7.7/);
    // The automatic search skips fixed addresses.
    expect((await ipam.lease('c', veth('c'))).ip).toBe('10.88.7.8');
  });

  it('checks a fixed --ip without leasing it', async () => {
    const ipam = new Ipam(file);
    await ipam.init('corral0', '10.88.0.0/16');
    await ipam.lease('a', { hostVeth: 'cva', ip: '10.88.0.9' });
    await expect(ipam.check('b', '10.88.0.10')).resolves.toBe('10.88.0.10');
    await expect(ipam.check('a', '10.88.0.9')).resolves.toBe('10.88.0.9');
    await expect(ipam.check('b', '10.88.0.9')).rejects.toThrow(/already in use on corral0 by container a/);
    await expect(ipam.check('b', '10.1.0.9')).rejects.toThrow(/outside network corral0's subnet/);
    expect(Object.keys(await ipam.list())).toEqual(['a']);
  });

  it('refuses to work over a damaged file rather than start afresh', async () => {
    const ipam = new Ipam(file);
    await ipam.init('n', '10.0.0.0/24');
    writeFileSync(file, '{"version":1,"subnet":');
    await expect(ipam.lease('a', veth('a'))).rejects.toThrow(NetworkError);
    await expect(ipam.lease('a', veth('a'))).rejects.toThrow(/read leases .*leases.json/);
  });

  it('needs the network first', async () => {
    await expect(new Ipam(file).lease('a', veth('a'))).rejects.toThrow(/leases.json is missing; ensure the network first/);
  });

  it('derives locally administered MACs', () => {
    expect(macFor('172.30.255.254')).toBe('02:42:ac:1e:ff:fe');
  });
});
