import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/errors.js';
import { NetworkRegistry } from '../../../src/network/registry.js';
import { ScriptRunner } from './support.js';

const ROUTES = JSON.stringify([
  { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
  { dst: '192.0.2.0/24', dev: 'eth0' },
  { dst: '10.88.0.0/16', dev: 'docker0' },
]);

let dataRoot: string;
beforeEach(() => {
  dataRoot = mkdtempSync(join(tmpdir(), 'corral-registry-'));
});
afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

function registry(o: { defaultSubnet?: string } = {}) {
  const runner = new ScriptRunner((file, args) => (file === 'ip' && args[0] === '-j' ? { stdout: ROUTES } : {}));
  const log: string[] = [];
  return { runner, log, reg: new NetworkRegistry({ runner, dataRoot, prefix: 'corral', log: (m) => log.push(m), ...o }) };
}

describe('NetworkRegistry', () => {
  it('makes the default network on first use, on <prefix>0, in a subnet no route overlaps, without touching the host', async () => {
    const { reg, runner, log } = registry();
    expect(await reg.list()).toEqual([]);
    const n = await reg.get('bridge');
    expect(n).toMatchObject({ version: 1, name: 'bridge', bridge: 'corral0', table: 'corral0', subnet: '10.89.0.0/16', gateway: '10.89.0.1' });
    expect(log[0]).toContain('chose subnet 10.89.0.0/16');
    // Only the routes were read: no bridge, no table yet.
    expect(runner.lines()).toEqual(['ip -j -4 route show table all']);
    expect(JSON.parse(readFileSync(join(dataRoot, 'network/bridge/leases.json'), 'utf8'))).toMatchObject({ network: 'bridge', subnet: '10.89.0.0/16', leases: {} });
    // Kept: a second get reads it back.
    expect(await reg.get('bridge')).toEqual(n);
    expect(await new NetworkRegistry({ runner, dataRoot, prefix: 'corral' }).get('bridge')).toEqual(n);
  });

  it('takes a configured default subnet', async () => {
    expect((await registry({ defaultSubnet: '172.30.0.0/16' }).reg.get('bridge')).subnet).toBe('172.30.0.0/16');
  });

  it('gives user networks the next free bridge index and a subnet no other network has', async () => {
    const { reg } = registry();
    await reg.get('bridge');
    const a = await reg.create('front');
    const b = await reg.create('back', { subnet: '10.200.1.0/24' });
    expect([a.bridge, a.subnet]).toEqual(['corral1', '10.90.0.0/16']);
    expect([b.bridge, b.subnet, b.gateway]).toEqual(['corral2', '10.200.1.0/24', '10.200.1.1']);
    expect((await reg.list()).map((n) => n.name)).toEqual(['back', 'bridge', 'front']);
    await reg.remove('front');
    expect((await reg.create('again')).bridge).toBe('corral1');
  });

  it.each([
    ['10.1.2.3/24', ValidationError, /host bits are set \(the network is 10\.1\.2\.0\/24\)/],
    ['10.1.2.0', ValidationError, /want an IPv4 network such as/],
    ['10.0.0.0/31', ValidationError, /prefix must be \/8 to \/30/],
    ['169.254.0.0/16', ValidationError, /overlaps 169\.254\.0\.0\/16 \(link-local\)/],
    ['224.1.0.0/16', ValidationError, /multicast/],
    ['192.0.2.128/25', ConflictError, /overlaps the host route to 192\.0\.2\.0\/24/],
    ['10.89.128.0/17', ConflictError, /overlaps network bridge \(10\.89\.0\.0\/16\)/],
  ])('refuses subnet %s', async (subnet, type, message) => {
    const { reg } = registry();
    await reg.get('bridge');
    const err = await reg.create('x', { subnet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect(await reg.find('x')).toBeUndefined();
  });

  it('refuses reserved, malformed and taken names; an unknown one is not found', async () => {
    const { reg } = registry();
    await reg.create('front');
    for (const name of ['bridge', 'host', 'none']) await expect(reg.create(name)).rejects.toThrow(/reserved/);
    await expect(reg.create('../x')).rejects.toThrow(/invalid network name/);
    await expect(reg.create('front')).rejects.toThrow(/already exists/);
    await expect(reg.get('nosuch')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('remove deletes the table, the bridge and the files; the default network stays', async () => {
    const { reg, runner } = registry();
    await reg.create('front');
    const n = runner.calls.length;
    await reg.remove('front');
    expect(runner.lines(n)).toEqual(['nft delete table inet corral1', 'nft delete table bridge corral1', 'ip link del corral1']);
    expect(existsSync(join(dataRoot, 'network/front'))).toBe(false);
    await expect(reg.remove('bridge')).rejects.toThrow(/default network and cannot be removed/);
    await expect(reg.remove('front')).rejects.toBeInstanceOf(NotFoundError);
  });
});
