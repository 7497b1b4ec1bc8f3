import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BridgeNetwork } from '../../../src/network/bridge.js';
import { NetnsStore } from '../../../src/network/netns.js';
import { guardScript, unguardScript } from '../../../src/network/filter.js';
import { plugNamespace } from '../../../src/network/plug.js';
import { MemorySysctl } from '../../../src/network/sysctl.js';
import { ScriptRunner } from './support.js';

const ID = '3f9c1d2e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff';
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'corral-plug-'));
  mkdirSync(join(root, 'proc-net'));
  for (const f of ['tcp', 'udp']) writeFileSync(join(root, 'proc-net', f), 'header\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function setup(failOn?: (line: string) => string | undefined) {
  const mounted = new Set<string>();
  const runner = new ScriptRunner((file, args) => {
    const line = [file, ...args].join(' ');
    const fail = failOn?.(line);
    if (fail) return { exitCode: 1, stderr: fail };
    if (file === 'mountpoint') return { exitCode: mounted.has(args[1]!) ? 0 : 32 };
    if (file === 'mount' && args[0] === '--bind') mounted.add(args[2]!);
    if (file === 'unshare') mounted.add(args[0]!.slice('--net='.length));
    if (file === 'umount') mounted.delete(args[0]!);
    if (line === 'ip -j -d link show dev cx0' || line === 'ip -j -d link show dev cx1') return { stdout: `[{"linkinfo":{"info_kind":"bridge"}}]` };
    if (line.startsWith('ip -j -4 addr show dev cx')) {
      const gw = line.endsWith('cx0') ? '10.88.0.1' : '10.89.0.1';
      return { stdout: JSON.stringify([{ addr_info: [{ local: gw, prefixlen: 16 }] }]) };
    }
    return {};
  });
  const sysctl = new MemorySysctl({ 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.cx0.route_localnet': '1', 'net.ipv4.conf.cx1.route_localnet': '1' });
  const net = (name: string, bridge: string, subnet: string) => new BridgeNetwork({ runner, dataRoot: join(root, 'data'), name, bridge, table: bridge, subnet, sysctl, procNet: join(root, 'proc-net') });
  const a = net('bridge', 'cx0', '10.88.0.0/16');
  const b = net('back', 'cx1', '10.89.0.0/16');
  return { runner, a, b, netns: new NetnsStore(join(root, 'run'), runner) };
}

describe('plugNamespace', () => {
  it('filters senders in one spawn, makes and configures the namespace with every veth in another, and plugs them in with one more', async () => {
    const { runner, a, b, netns } = setup();
    await a.ensure();
    await b.ensure();
    const n = runner.calls.length;
    const r = await plugNamespace({
      id: ID,
      netns,
      runner,
      hostNetns: '/proc/42/ns/net',
      plugs: [
        { net: a, ifname: 'eth0', hostVeth: a.vethName(ID, 0), defaultRoute: true },
        { net: b, ifname: 'eth1', hostVeth: b.vethName(ID, 1), ip: '10.89.0.9', defaultRoute: false },
      ],
    });
    expect(r.attachments).toEqual([
      { ip: '10.88.0.2', mac: '02:42:0a:58:00:02', gateway: '10.88.0.1', prefix: 16, hostVeth: 'cv3f9c1d2e4b5a0' },
      { ip: '10.89.0.9', mac: '02:42:0a:59:00:09', gateway: '10.89.0.1', prefix: 16, hostVeth: 'cv3f9c1d2e4b5a1' },
    ]);
    const spawned = runner.lines(n).filter((l) => !l.startsWith('mount'));
    expect(spawned).toEqual(['nft -f -', `unshare --net=${r.file} ip -batch -`, 'ip -batch -']);
    // Each veth may send only from its own MAC and address, in its own network's bridge table.
    expect(runner.inputs[runner.lines().indexOf('nft -f -', n)]).toBe(
      guardScript('cx0', { hostVeth: 'cv3f9c1d2e4b5a0', mac: '02:42:0a:58:00:02', ip: '10.88.0.2' }) +
        guardScript('cx1', { hostVeth: 'cv3f9c1d2e4b5a1', mac: '02:42:0a:59:00:09', ip: '10.89.0.9' }),
    );
    expect(runner.inputs.at(-2)).toBe(
      [
        'link add eth0 address 02:42:0a:58:00:02 type veth peer name cv3f9c1d2e4b5a0 netns /proc/42/ns/net',
        'addr add 10.88.0.2/16 dev eth0',
        'link set eth0 up',
        'link add eth1 address 02:42:0a:59:00:09 type veth peer name cv3f9c1d2e4b5a1 netns /proc/42/ns/net',
        'addr add 10.89.0.9/16 dev eth1',
        'link set eth1 up',
        'link set lo up',
        'route add default via 10.88.0.1 dev eth0',
        '',
      ].join('\n'),
    );
    expect(runner.inputs.at(-1)).toBe('link set cv3f9c1d2e4b5a0 master cx0 up\nlink set cv3f9c1d2e4b5a1 master cx1 up\n');
    expect((await a.lease(ID))?.hostVeth).toBe('cv3f9c1d2e4b5a0');
    expect((await b.lease(ID))?.ip).toBe('10.89.0.9');
  });

  it('undoes veths, leases and the namespace when plugging in fails, naming the step', async () => {
    const { runner, a, netns } = setup((l) => (l === 'ip -batch -' ? 'Error: argument "cx0" is wrong: Device does not exist\nCommand failed -:1' : undefined));
    await a.ensure();
    const err = await plugNamespace({ id: ID, netns, runner, plugs: [{ net: a, ifname: 'eth0', hostVeth: 'cv3f9c1d2e4b5a0', defaultRoute: true }] }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('attach veths cv3f9c1d2e4b5a0 to bridge cx0: Error: argument "cx0" is wrong: Device does not exist');
    expect(runner.lines().slice(-3)).toEqual(['ip link del cv3f9c1d2e4b5a0', 'nft -f -', `umount ${netns.path(ID)}`]);
    expect(runner.inputs.at(-2)).toBe(unguardScript('cx0', 'cv3f9c1d2e4b5a0'));
    expect(await a.lease(ID)).toBeUndefined();
    expect(existsSync(netns.path(ID))).toBe(false);
  });

  it('undoes the leases when the namespace cannot be configured', async () => {
    const { runner, a, netns } = setup((l) => (l.startsWith('unshare') ? 'RTNETLINK answers: Operation not permitted\nCommand failed -:1' : undefined));
    await a.ensure();
    await expect(plugNamespace({ id: ID, netns, runner, plugs: [{ net: a, ifname: 'eth0', hostVeth: 'cv3f9c1d2e4b5a0', defaultRoute: true }] })).rejects.toThrow(
      `create and configure network namespace ${netns.path(ID)}: RTNETLINK answers: Operation not permitted`,
    );
    expect(await a.lease(ID)).toBeUndefined();
    expect(existsSync(netns.path(ID))).toBe(false);
  });
});
