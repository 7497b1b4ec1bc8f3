import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NetworkError } from '../../../src/errors.js';
import { BridgeNetwork } from '../../../src/network/bridge.js';
import { filterBaseScript, guardScript, unguardScript } from '../../../src/network/filter.js';
import { baseScript } from '../../../src/network/nft.js';
import { parsePortMappings } from '../../../src/network/ports.js';
import { MemorySysctl } from '../../../src/network/sysctl.js';
import { ScriptRunner } from './support.js';

const A = '3f9c1d2e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const NS_A = '/run/corral/netns/3f9c1d2e4b5a';
const ROUTES = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"},{"dst":"192.0.2.0/24","dev":"eth0"}]';
const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

let dataRoot: string;
let procNet: string;
beforeEach(() => {
  dataRoot = mkdtempSync(join(tmpdir(), 'corral-bridge-'));
  procNet = join(dataRoot, 'proc-net');
  mkdirSync(procNet);
  for (const f of ['tcp', 'udp']) writeFileSync(join(procNet, f), TCP_HEADER);
});
afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

/** A host with no bridge yet; `ip`/`nft` calls change a little fake state so sequences are realistic. */
function host(o: { failOn?: (line: string) => string | undefined } = {}) {
  const state = { bridge: false, addr: false, links: new Set<string>(), rules: [] as { handle: number; comment: string }[], guarded: new Set<string>() };
  let handle = 3;
  const runner = new ScriptRunner((file, args) => {
    const line = [file, ...args].join(' ');
    const fail = o.failOn?.(line);
    if (fail) return { exitCode: 2, stderr: fail };
    if (line === 'ip -j -4 route show table all') return { stdout: ROUTES };
    if (line === 'ip -j -d link show dev corral0') return state.bridge ? { stdout: '[{"ifname":"corral0","linkinfo":{"info_kind":"bridge"}}]' } : { exitCode: 1, stderr: 'Device "corral0" does not exist.' };
    if (line.startsWith('ip link add corral0')) state.bridge = true;
    if (line === 'ip -j -4 addr show dev corral0') return { stdout: JSON.stringify([{ ifname: 'corral0', addr_info: state.addr ? [{ family: 'inet', local: '10.88.0.1', prefixlen: 16 }] : [] }]) };
    if (line.startsWith('ip addr add')) state.addr = true;
    if (line.startsWith('ip link add cv')) state.links.add(args[2]!);
    if (line.startsWith('ip link del ')) {
      if (!state.links.delete(args[2]!)) return { exitCode: 1, stderr: `Cannot find device "${args[2]}"` };
    }
    if (line === 'ip -j link show master corral0') return { stdout: JSON.stringify([...state.links].map((ifname) => ({ ifname }))) };
    if (line === 'nft -j list table bridge corral') {
      return { stdout: JSON.stringify({ nftables: [{ metainfo: {} }, { chain: { name: 'prerouting' } }, ...[...state.guarded].map((name) => ({ chain: { name } }))] }) };
    }
    if (line === 'nft -j list chain inet corral ports') {
      return { stdout: JSON.stringify({ nftables: [{ metainfo: {} }, { chain: { name: 'ports' } }, ...state.rules.map((r) => ({ rule: { chain: 'ports', handle: r.handle, comment: r.comment } }))] }) };
    }
    return {};
  });
  // nft -f - adds and deletes rules as its script says.
  const run = runner.run.bind(runner);
  runner.run = async (file, args, options = {}) => {
    const r = await run(file, args, options);
    if (file === 'nft' && args[0] === '-f') {
      for (const l of (options.input ?? '').split('\n')) {
        const add = /^add rule inet corral ports .* comment "(.*)"$/.exec(l);
        if (add) state.rules.push({ handle: handle++, comment: add[1]! });
        const del = /^delete rule inet corral ports handle (\d+)$/.exec(l);
        if (del) state.rules = state.rules.filter((x) => x.handle !== Number(del[1]));
        const guard = /^add element bridge corral senders \{ "(.*)" : jump .*\}$/.exec(l);
        if (guard) state.guarded.add(guard[1]!);
        const unguard = /^delete element bridge corral senders \{ "(.*)" \}$/.exec(l);
        if (unguard) state.guarded.delete(unguard[1]!);
      }
    }
    return r;
  };
  return { runner, state };
}

function network(runner: ScriptRunner, sysctl = new MemorySysctl({ 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.corral0.route_localnet': '0' }), log: string[] = []) {
  return new BridgeNetwork({ runner, dataRoot, sysctl, procNet, log: (m) => log.push(m) });
}

const leases = () => JSON.parse(readFileSync(join(dataRoot, 'network/corral0/leases.json'), 'utf8'));

describe('BridgeNetwork.ensure', () => {
  it('chooses a subnet, makes the bridge, sets route_localnet on it, enables ip_forward (saying so) and loads the table', async () => {
    const { runner } = host();
    const sysctl = new MemorySysctl({ 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.corral0.route_localnet': '0' });
    const log: string[] = [];
    const info = await network(runner, sysctl, log).ensure();
    expect(info).toEqual({ name: 'corral0', bridge: 'corral0', table: 'corral', subnet: '10.88.0.0/16', gateway: '10.88.0.1', prefix: 16, enabledIpForward: true });
    expect(runner.lines()).toEqual([
      'ip -j -4 route show table all',
      'ip -j -d link show dev corral0',
      'ip link add corral0 address 02:42:0a:58:00:01 type bridge',
      'ip -j -4 addr show dev corral0',
      'ip addr add 10.88.0.1/16 dev corral0',
      'ip link set corral0 up',
      'nft -f -',
    ]);
    expect(runner.inputs.at(-1)).toBe(baseScript({ table: 'corral', bridge: 'corral0', subnet: '10.88.0.0/16' }) + filterBaseScript('corral'));
    expect(sysctl.writes).toEqual([
      { key: 'net.ipv4.conf.corral0.route_localnet', value: '1' },
      { key: 'net.ipv4.ip_forward', value: '1' },
    ]);
    expect(log).toEqual([
      'network corral0: chose subnet 10.88.0.0/16, which no host route overlaps',
      'network corral0: enabled net.ipv4.ip_forward (it was 0) so containers reach beyond the host; this host now forwards IPv4 between all its interfaces',
    ]);
    expect(leases()).toMatchObject({ subnet: '10.88.0.0/16', gateway: '10.88.0.1', leases: {} });
  });

  it('the table script: own table only, base chains flushed and refilled in one transaction, ports chain kept', () => {
    expect(baseScript({ table: 'corral', bridge: 'corral0', subnet: '10.88.0.0/16' })).toBe(
      [
        'add table inet corral',
        'add chain inet corral ports',
        'add chain inet corral prerouting { type nat hook prerouting priority dstnat; policy accept; }',
        'add chain inet corral output { type nat hook output priority -100; policy accept; }',
        'add chain inet corral postrouting { type nat hook postrouting priority srcnat; policy accept; }',
        'add chain inet corral forward { type filter hook forward priority filter; policy accept; }',
        'add chain inet corral guard { type filter hook prerouting priority raw; policy accept; }',
        'flush chain inet corral prerouting',
        'flush chain inet corral output',
        'flush chain inet corral postrouting',
        'flush chain inet corral forward',
        'flush chain inet corral guard',
        'add rule inet corral prerouting fib daddr type local jump ports',
        'add rule inet corral output fib daddr type local jump ports',
        'add rule inet corral postrouting ip saddr 10.88.0.0/16 oifname != "corral0" masquerade',
        'add rule inet corral postrouting ip saddr 127.0.0.0/8 oifname "corral0" masquerade',
        'add rule inet corral postrouting ct status dnat ip saddr 10.88.0.0/16 oifname "corral0" masquerade',
        'add rule inet corral forward oifname "corral0" ct state established,related accept',
        'add rule inet corral forward oifname "corral0" ct status dnat accept',
        'add rule inet corral forward iifname "corral0" accept',
        'add rule inet corral forward oifname "corral0" drop',
        'add rule inet corral guard iifname "corral0" ip daddr 127.0.0.0/8 drop',
        '',
      ].join('\n'),
    );
  });

  it('is idempotent: a second run (or a restarted corrald) keeps the subnet and changes nothing', async () => {
    const { runner } = host();
    const sysctl = new MemorySysctl({ 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.corral0.route_localnet': '0' });
    await network(runner, sysctl).ensure();
    const n = runner.calls.length;
    const w = sysctl.writes.length;
    const log: string[] = [];
    const info = await network(runner, sysctl, log).ensure();
    expect(info.enabledIpForward).toBe(false);
    expect(runner.lines(n)).toEqual(['ip -j -d link show dev corral0', 'ip -j -4 addr show dev corral0', 'ip link set corral0 up', 'nft -f -']);
    expect(sysctl.writes.length).toBe(w);
    expect(log).toEqual([]);
  });

  it('refuses an interface of the name that is not a bridge, or a bridge with another address', async () => {
    const eth = new ScriptRunner((f, a) => (a.join(' ') === '-j -d link show dev corral0' ? { stdout: '[{"ifname":"corral0","linkinfo":{"info_kind":"veth"}}]' } : { stdout: ROUTES }));
    await expect(network(eth).ensure()).rejects.toThrow('create bridge corral0: an interface of that name exists and is a veth, not a bridge');
    const other = new ScriptRunner((f, a) => {
      const l = a.join(' ');
      if (l === '-j -d link show dev corral0') return { stdout: '[{"linkinfo":{"info_kind":"bridge"}}]' };
      if (l === '-j -4 addr show dev corral0') return { stdout: '[{"addr_info":[{"local":"10.99.0.1","prefixlen":24}]}]' };
      return { stdout: ROUTES };
    });
    await expect(network(other).ensure()).rejects.toThrow('configure bridge corral0: it has 10.99.0.1/24, not 10.88.0.1/16; delete the bridge or use its subnet');
  });

  it('names the table when nft fails', async () => {
    const { runner } = host({ failOn: (l) => (l === 'nft -f -' ? 'Error: Could not process rule: Operation not supported' : undefined) });
    await expect(network(runner).ensure()).rejects.toThrow('set up tables inet and bridge corral: Error: Could not process rule: Operation not supported');
    await expect(network(runner).ensure()).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('BridgeNetwork.attach / detach', () => {
  it('leases (on disk first), makes the veth with eth0 in the namespace, enslaves it and configures the inside', async () => {
    let leasedBeforeVeth = false;
    const { runner } = host({
      failOn: (l) => {
        if (l.startsWith('ip link add cv')) leasedBeforeVeth = leases().leases[A]?.hostVeth === 'cv3f9c1d2e4b5a6';
        return undefined;
      },
    });
    const net = network(runner);
    await net.ensure();
    const n = runner.calls.length;
    const att = await net.attach(A, NS_A);
    expect(att).toEqual({ ip: '10.88.0.2', mac: '02:42:0a:58:00:02', gateway: '10.88.0.1', prefix: 16, hostVeth: 'cv3f9c1d2e4b5a6' });
    expect(att.hostVeth.length).toBeLessThanOrEqual(15);
    expect(leasedBeforeVeth).toBe(true);
    expect(runner.lines(n)).toEqual([
      'nft -f -',
      `ip link add cv3f9c1d2e4b5a6 type veth peer name eth0 address 02:42:0a:58:00:02 netns ${NS_A}`,
      'ip link set cv3f9c1d2e4b5a6 master corral0 up',
      `nsenter --net=${NS_A} ip -batch -`,
    ]);
    // The filter is in place before the veth exists.
    expect(runner.inputs[n]).toBe(guardScript('corral', { hostVeth: 'cv3f9c1d2e4b5a6', mac: '02:42:0a:58:00:02', ip: '10.88.0.2' }));
    expect(runner.inputs.at(-1)).toBe('addr add 10.88.0.2/16 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via 10.88.0.1 dev eth0\n');
    expect((await net.attach(B, '/run/corral/netns/bbbbbbbbbbbb', { ip: '10.88.3.4' })).ip).toBe('10.88.3.4');
  });

  it('runs ensure first when needed', async () => {
    const { runner } = host();
    await network(runner).attach(A, NS_A);
    expect(runner.lines()[0]).toBe('ip -j -4 route show table all');
  });

  it('undoes the veth and the lease when a step fails, naming the step and interface', async () => {
    const { runner, state } = host({ failOn: (l) => (l.startsWith('ip link set cv') ? 'RTNETLINK answers: Operation not permitted' : undefined) });
    const net = network(runner);
    await net.ensure();
    const n = runner.calls.length;
    await expect(net.attach(A, NS_A)).rejects.toThrow('attach veth cv3f9c1d2e4b5a6 to bridge corral0: RTNETLINK answers: Operation not permitted');
    expect(runner.lines(n).slice(-2)).toEqual(['ip link del cv3f9c1d2e4b5a6', 'nft -f -']);
    expect(runner.inputs.at(-1)).toBe(unguardScript('corral', 'cv3f9c1d2e4b5a6'));
    expect(state.links.size).toBe(0);
    expect(state.guarded.size).toBe(0);
    expect(leases().leases).toEqual({});
    await expect(net.attach(A, NS_A)).rejects.toBeInstanceOf(NetworkError);
  });

  it('a second attach of an attached container fails without cutting it off', async () => {
    const { runner, state } = host({ failOn: (l) => (l.startsWith('ip link add cv') && state.links.has('cv3f9c1d2e4b5a6') ? 'RTNETLINK answers: File exists' : undefined) });
    const net = network(runner);
    await net.attach(A, NS_A);
    const n = runner.calls.length;
    await expect(net.attach(A, NS_A)).rejects.toThrow('create veth cv3f9c1d2e4b5a6: RTNETLINK answers: File exists');
    expect(runner.lines(n)).toEqual(['nft -f -', `ip link add cv3f9c1d2e4b5a6 type veth peer name eth0 address 02:42:0a:58:00:02 netns ${NS_A}`]);
    expect(state.links.has('cv3f9c1d2e4b5a6')).toBe(true);
    expect(state.guarded.has('cv3f9c1d2e4b5a6')).toBe(true);
    expect(leases().leases[A].ip).toBe('10.88.0.2');
  });

  it('detach unpublishes, deletes the host veth and frees the lease; again is a no-op', async () => {
    const { runner, state } = host();
    const net = network(runner);
    await net.attach(A, NS_A);
    const n = runner.calls.length;
    await net.detach(A);
    // Nothing published: the only nft call removes the sender filter.
    expect(runner.lines(n)).toEqual(['ip link del cv3f9c1d2e4b5a6', 'nft -f -']);
    expect(state.links.size).toBe(0);
    expect(state.guarded.size).toBe(0);
    expect(leases().leases).toEqual({});
    await expect(net.detach(A)).resolves.toBeUndefined();
    // The freed address is not handed out again at once.
    expect((await net.attach(B, '/n/b')).ip).toBe('10.88.0.3');
  });

  it('detach of a container whose namespace was destroyed (its veth goes with it) frees the lease without waiting on ip link del', async () => {
    const { runner, state } = host();
    const net = network(runner);
    await net.attach(A, NS_A);
    const n = runner.calls.length;
    await net.detach(A, { vethGone: true });
    // The filter matches the veth by name and outlives it: it is removed all the same.
    expect(runner.lines(n)).toEqual(['nft -f -']);
    expect(state.guarded.size).toBe(0);
    expect(leases().leases).toEqual({});
  });

  it('detach reports a real failure to delete', async () => {
    const { runner } = host({ failOn: (l) => (l.startsWith('ip link del') ? 'RTNETLINK answers: Operation not permitted' : undefined) });
    const net = network(runner);
    await net.attach(A, NS_A);
    await expect(net.detach(A)).rejects.toThrow('delete veth cv3f9c1d2e4b5a6: RTNETLINK answers: Operation not permitted');
  });
});

describe('BridgeNetwork.publish / unpublish', () => {
  it('adds one DNAT rule per port in one transaction, tagged with the container id', async () => {
    const { runner } = host();
    const net = network(runner);
    await net.ensure();
    const n = runner.calls.length;
    await net.publish(A, '10.88.0.2', parsePortMappings(['8080:80', '127.0.0.1:5353:53/udp']));
    expect(runner.lines(n)).toEqual(['nft -f -']);
    expect(runner.inputs.at(-1)).toBe(
      `add rule inet corral ports meta nfproto ipv4 tcp dport 8080 dnat ip to 10.88.0.2:80 comment "${A}"\n` +
        `add rule inet corral ports ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.88.0.2:53 comment "${A}"\n`,
    );
    expect((await net.published())[A]).toEqual([
      { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp', containerIp: '10.88.0.2' },
      { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp', containerIp: '10.88.0.2' },
    ]);
  });

  it('refuses a host port already published by Corral', async () => {
    const { runner } = host();
    const net = network(runner);
    await net.publish(A, '10.88.0.2', parsePortMappings(['127.0.0.1:8080:80']));
    const err = await net.publish(B, '10.88.0.3', parsePortMappings(['8080:81'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe('publish 0.0.0.0:8080/tcp: host port 8080/tcp is already published by container 3f9c1d2e4b5a');
    await expect(net.publish(B, '10.88.0.3', parsePortMappings(['8080:81/udp', '127.0.0.2:8080:81']))).resolves.toBeUndefined();
  });

  it('refuses a host port another program listens on', async () => {
    writeFileSync(join(procNet, 'tcp'), TCP_HEADER + '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n');
    const { runner } = host();
    const net = network(runner);
    await expect(net.publish(A, '10.88.0.2', parsePortMappings(['3000:80']))).rejects.toThrow('publish 0.0.0.0:3000/tcp: host port 3000/tcp is in use by another program (listening on 127.0.0.1:3000)');
    await expect(net.publish(A, '10.88.0.2', parsePortMappings(['3000:80']))).rejects.toBeInstanceOf(ConflictError);
    await expect(net.publish(A, '10.88.0.2', parsePortMappings(['192.0.2.2:3000:80']))).resolves.toBeUndefined();
  });

  it('forgets the record when nft fails', async () => {
    const { runner } = host({ failOn: (l) => (l === 'nft -f -' && runner.inputs.at(-1)?.includes('dnat ip to') ? 'Error: Could not process rule' : undefined) });
    const net = network(runner);
    await net.ensure();
    await expect(net.publish(A, '10.88.0.2', parsePortMappings(['8080:80']))).rejects.toThrow('publish ports of 3f9c1d2e4b5a in table inet corral: Error: Could not process rule');
    expect(await net.published()).toEqual({});
  });

  it('unpublish deletes exactly the rules tagged with the id, by handle', async () => {
    const { runner, state } = host();
    const net = network(runner);
    await net.publish(A, '10.88.0.2', parsePortMappings(['8080:80', '8081:81']));
    await net.publish(B, '10.88.0.3', parsePortMappings(['9090:90']));
    const handles = state.rules.filter((r) => r.comment === A).map((r) => r.handle);
    const n = runner.calls.length;
    await net.unpublish(A);
    expect(runner.lines(n)).toEqual(['nft -j list chain inet corral ports', 'nft -f -']);
    expect(runner.inputs.at(-1)).toBe(handles.map((h) => `delete rule inet corral ports handle ${h}\n`).join(''));
    expect(state.rules.map((r) => r.comment)).toEqual([B]);
    expect(Object.keys(await net.published())).toEqual([B]);
    const m = runner.calls.length;
    await net.unpublish(A);
    expect(runner.lines(m)).toEqual([]);
  });
});

describe('BridgeNetwork.repair / remove', () => {
  it('deletes veths, leases and port rules of unknown containers, and stray cv* ports of our bridge', async () => {
    const { runner, state } = host();
    const net = network(runner);
    await net.attach(A, NS_A);
    await net.attach(B, '/n/b');
    await net.publish(B, '10.88.0.3', parsePortMappings(['9090:90']));
    state.links.add('cvstray0000001');
    state.links.add('eth9');
    state.guarded.add('cvstray0000002');
    const n = runner.calls.length;
    const report = await net.repair([A]);
    expect(report).toEqual({ leases: [B], veths: ['cvbbbbbbbbbbbbb', 'cvstray0000001'], ports: [B], filters: ['cvbbbbbbbbbbbbb', 'cvstray0000002'] });
    expect(runner.lines(n)).toEqual([
      'ip link del cvbbbbbbbbbbbbb',
      'ip -j link show master corral0',
      'ip link del cvstray0000001',
      'nft -j list chain inet corral ports',
      'nft -f -',
      'nft -j list table bridge corral',
      'nft -f -',
      'nft -f -',
    ]);
    expect([...state.guarded]).toEqual(['cv3f9c1d2e4b5a6']);
    expect([...state.links].sort()).toEqual(['cv3f9c1d2e4b5a6', 'eth9']);
    expect(Object.keys(leases().leases)).toEqual([A]);
    expect(state.rules).toEqual([]);
    expect(await net.published()).toEqual({});
  });

  it('remove refuses while containers are attached, then deletes the table, the bridge and the files', async () => {
    const { runner } = host();
    const net = network(runner);
    await net.attach(A, NS_A);
    await expect(net.remove()).rejects.toThrow('remove network corral0: 1 container(s) still attached (3f9c1d2e4b5a)');
    await net.detach(A);
    const n = runner.calls.length;
    await net.remove();
    expect(runner.lines(n)).toEqual(['nft delete table inet corral', 'nft delete table bridge corral', 'ip link del corral0']);
    expect(existsSync(net.dir)).toBe(false);
  });

  it('validates names', () => {
    const runner = new ScriptRunner();
    expect(() => new BridgeNetwork({ runner, dataRoot, name: 'a-very-long-bridge-name' })).toThrow(/invalid network name/);
    expect(() => new BridgeNetwork({ runner, dataRoot, table: 'x; flush ruleset' })).toThrow(/invalid nftables table/);
    expect(() => new BridgeNetwork({ runner, dataRoot }).attach('"; flush ruleset', '/n')).rejects.toThrow(/invalid container id/);
  });
});

describe('errors', () => {
  it('names a missing program and its package', async () => {
    const { runner } = host({ failOn: (l) => (l === 'nft -f -' ? 'Command failed with ENOENT: nft -f -\nspawn nft ENOENT' : undefined) });
    await expect(network(runner).ensure()).rejects.toThrow(/^set up tables inet and bridge corral: nft: command not found \(install nftables\)$/);
  });
});
