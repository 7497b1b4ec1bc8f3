import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { BridgeNetwork, type Attachment, type NetworkInfo } from '../../src/network/bridge.js';
import { NetnsStore } from '../../src/network/netns.js';
import { parsePortMappings } from '../../src/network/ports.js';
import { chooseSubnet, parseRoutes } from '../../src/network/subnet.js';
import { ExecaRunner } from '../../src/system/runner.js';

/**
 * The network module on its own (no corrald): a bridge, an nftables table and a subnet of this
 * test's own, network namespaces in a run root of its own, and a stand-in for "the internet" (a
 * namespace on a point-to-point veth with 198.18.0.0/15 benchmark addresses). Traffic flows only
 * between these namespaces and the host's loopback. afterAll removes everything, whatever failed,
 * and the last test asserts nothing is left.
 */

const has = (bin: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const whyNot = process.getuid?.() !== 0 ? 'needs root' : !has('nft') ? 'needs nftables (apt-get install nftables)' : !has('ip') || !has('nsenter') ? 'needs iproute2 and util-linux' : undefined;
if (whyNot) console.warn(`NETWORK MODULE INTEGRATION TESTS SKIPPED: ${whyNot}`);

const PID = process.pid;
const BRIDGE = `cvtest${PID}`.slice(0, 15);
const TABLE = `corral_test_${PID}`;
const INET_VETH = `tinet${PID}`.slice(0, 15);
const HOST_PORT = 30000 + (PID % 5000);
const hex = (): string => randomBytes(32).toString('hex');
const A = hex();
const B = hex();
const C = hex();
const INET = `inet${hex().slice(0, 60)}`;

let base = '';
let dataRoot = '';
let store: NetnsStore;
let net: BridgeNetwork;
let info: NetworkInfo;
let ipForwardBefore = '';
const logs: string[] = [];
const link = { host: '', peer: '', prefix: '' }; // the "internet" point-to-point link
const att: Record<string, Attachment> = {};
const children = new Set<ChildProcess>();
const hostServers: Server[] = [];

// ---- helpers ------------------------------------------------------------------------------------

function sh(file: string, args: string[], input?: string): string {
  return execFileSync(file, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}), stdio: [input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
}

/** A node program inside a namespace, kept running; resolves once it printed `listening`. */
async function serveIn(netns: string, script: string): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server in ${netns} did not start: ${out}`)), 5000);
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('listening')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server in ${netns} exited ${code}: ${out}`));
    });
  });
  return child;
}

/** Run a short node program inside a namespace; its first stdout line. */
function runIn(netns: string, script: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('nsenter', [`--net=${netns}`, process.execPath, '-e', script], { timeout: 10_000 }, (_err, stdout) => resolve(String(stdout).trim()));
  });
}

/** TCP server answering each connection with the client's address as it sees it. */
const tcpEcho = (port: number, host = '0.0.0.0'): string =>
  `require('net').createServer(c=>c.end(c.remoteAddress.replace(/^::ffff:/,'')+'\\n')).listen(${port},'${host}',()=>console.log('listening'))`;
const udpEcho = (port: number): string =>
  `const d=require('dgram').createSocket('udp4');d.on('message',(m,r)=>d.send(r.address,r.port,r.address));d.bind(${port},()=>console.log('listening'))`;
const tcpAsk = (host: string, port: number, ms = 3000): string =>
  `const c=require('net').connect(${port},'${host}');let b='';c.on('data',d=>b+=d);c.on('end',()=>{console.log(b.trim());process.exit(0)});c.on('error',e=>{console.log('ERR '+e.code);process.exit(1)});setTimeout(()=>{console.log('TIMEOUT');process.exit(2)},${ms})`;
const udpAsk = (host: string, port: number): string =>
  `const d=require('dgram').createSocket('udp4');d.on('message',m=>{console.log(String(m));process.exit(0)});d.send('x',${port},'${host}');setTimeout(()=>{console.log('TIMEOUT');process.exit(2)},3000)`;

function askTcpFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(port, host);
    let b = '';
    const t = setTimeout(() => (c.destroy(), resolve('TIMEOUT')), 3000);
    c.on('data', (d) => (b += String(d)));
    c.on('end', () => (clearTimeout(t), resolve(b.trim())));
    c.on('error', (e: NodeJS.ErrnoException) => (clearTimeout(t), resolve(`ERR ${e.code}`)));
  });
}

function askUdpFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const d = createSocket('udp4');
    const t = setTimeout(() => (d.close(), resolve('TIMEOUT')), 3000);
    d.on('message', (m) => (clearTimeout(t), d.close(), resolve(String(m))));
    d.send('x', port, host);
  });
}

const linkNames = (): string[] => (JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

function killChildren(): void {
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  children.clear();
}

// ---- setup and teardown --------------------------------------------------------------------------

beforeAll(async () => {
  if (whyNot) return;
  base = mkdtempSync('/var/tmp/corral-net-it-');
  dataRoot = join(base, 'data');
  ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const routes = parseRoutes(sh('ip', ['-j', '-4', 'route', 'show', 'table', 'all']));
  const third = (i: number): number => (PID + i) % 256;
  const subnet = chooseSubnet(routes, Array.from({ length: 32 }, (_, i) => `10.213.${third(i)}.0/24`));
  const p2p = chooseSubnet(routes, Array.from({ length: 32 }, (_, i) => `198.18.${third(i)}.0/30`));
  const p2pBase = p2p.split('/')[0]!.split('.').slice(0, 3).join('.');
  link.host = `${p2pBase}.1`;
  link.peer = `${p2pBase}.2`;
  link.prefix = p2p;

  const runner = new ExecaRunner();
  store = new NetnsStore(join(base, 'run'), runner);
  net = new BridgeNetwork({ runner, dataRoot, name: BRIDGE, table: TABLE, subnet, log: (m) => logs.push(m) });

  // "The internet": a namespace behind a point-to-point veth of the test's own, with a route back
  // to the containers' subnet only for the test of unpublished traffic.
  const inet = await store.create(INET);
  sh('ip', ['link', 'add', INET_VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', inet]);
  sh('ip', ['addr', 'add', `${link.host}/30`, 'dev', INET_VETH]);
  sh('ip', ['link', 'set', INET_VETH, 'up']);
  sh('nsenter', [`--net=${inet}`, 'ip', '-batch', '-'], `addr add ${link.peer}/30 dev eth0\nlink set eth0 up\nlink set lo up\nroute add ${subnet} via ${link.host}\n`);
});

afterAll(async () => {
  if (whyNot) return;
  killChildren();
  for (const s of hostServers) s.close();
  const quiet = async (f: () => Promise<unknown> | unknown): Promise<void> => {
    try {
      await f();
    } catch (err) {
      console.warn(`network test cleanup: ${(err as Error).message}`);
    }
  };
  for (const id of [A, B, C]) await quiet(() => net.detach(id));
  if (linkNames().includes(INET_VETH)) await quiet(() => execFileSync('ip', ['link', 'del', INET_VETH], { stdio: 'ignore' }));
  for (const id of [A, B, C, INET]) await quiet(() => store.remove(id));
  await quiet(() => net.remove({ force: true }));
  await quiet(() => store.removeDir());
  // Only if this test turned forwarding on: put it back.
  if (ipForwardBefore === '0' && readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1' && logs.some((l) => l.includes('enabled net.ipv4.ip_forward'))) {
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
  }
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').includes(base);
  if (!mounted) rmSync(base, { recursive: true, force: true });
  else console.warn(`network test cleanup: mounts left under ${base}`);
});

// ---- tests ---------------------------------------------------------------------------------------

describe.skipIf(whyNot !== undefined)('network module (bridge, netns, NAT, published ports)', () => {
  it('ensure makes our bridge and table, route_localnet on the bridge, and turns forwarding on, saying so', async () => {
    info = await net.ensure();
    expect(info).toMatchObject({ bridge: BRIDGE, table: TABLE, prefix: 24 });
    expect(linkNames()).toContain(BRIDGE);
    expect(sh('nft', ['list', 'table', 'inet', TABLE])).toContain(`oifname != "${BRIDGE}" masquerade`);
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, 'utf8').trim()).toBe('1');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    if (ipForwardBefore === '0') expect(logs.some((l) => l.includes('enabled net.ipv4.ip_forward (it was 0)'))).toBe(true);
    // Idempotent.
    await expect(net.ensure()).resolves.toMatchObject({ subnet: info.subnet, enabledIpForward: false });
  });

  it('two attached namespaces get distinct addresses and reach each other over the bridge', async () => {
    att[A] = await net.attach(A, await store.create(A));
    att[B] = await net.attach(B, await store.create(B));
    expect(att[A]!.ip).not.toBe(att[B]!.ip);
    for (const a of Object.values(att)) expect(a.ip.startsWith(info.subnet.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    const inside = sh('nsenter', [`--net=${store.path(A)}`, 'ip', '-j', 'addr', 'show', 'dev', 'eth0']);
    expect(inside).toContain(`"local":"${att[A]!.ip}"`);
    expect(inside).toContain(att[A]!.mac);
    expect(sh('nsenter', [`--net=${store.path(A)}`, 'ip', 'route'])).toContain(`default via ${info.gateway} dev eth0`);
    expect(sh('nsenter', [`--net=${store.path(A)}`, 'busybox', 'ping', '-c', '1', '-W', '2', att[B]!.ip])).toMatch(/1 packets received/);
    const lease = JSON.parse(readFileSync(join(dataRoot, 'network', BRIDGE, 'leases.json'), 'utf8'));
    expect(Object.keys(lease.leases).sort()).toEqual([A, B].sort());
  });

  it('traffic leaving the host is masqueraded: the "internet" sees the host address of its link', async () => {
    await serveIn(store.path(INET), tcpEcho(7000, link.peer));
    expect(await runIn(store.path(A), tcpAsk(link.peer, 7000))).toBe(link.host);
  });

  it('an unpublished container port is not reachable from outside, though a route exists', async () => {
    await serveIn(store.path(B), tcpEcho(7001));
    expect(await runIn(store.path(B), tcpAsk('127.0.0.1', 7001))).toBe('127.0.0.1');
    expect(await runIn(store.path(INET), tcpAsk(att[B]!.ip, 7001, 1500))).toBe('TIMEOUT');
  });

  it('a published TCP port shows a remote client its own address; host 127.0.0.1 and hairpin work too', async () => {
    await serveIn(store.path(A), tcpEcho(8080));
    await net.publish(A, att[A]!.ip, parsePortMappings([`${HOST_PORT}:8080`]));
    expect(await runIn(store.path(INET), tcpAsk(link.host, HOST_PORT))).toBe(link.peer);
    // Host-local clients are masqueraded to the gateway (route_localnet on our bridge only).
    expect(await askTcpFromHost('127.0.0.1', HOST_PORT)).toBe(info.gateway);
    // Another container through the host's address: hairpin NAT.
    expect(await runIn(store.path(B), tcpAsk(info.gateway, HOST_PORT))).toBe(info.gateway);
  });

  it('a published UDP port works from outside and from the host', async () => {
    await serveIn(store.path(A), udpEcho(5353));
    await net.publish(A, att[A]!.ip, parsePortMappings([`${HOST_PORT}:5353/udp`]));
    expect(await runIn(store.path(INET), udpAsk(link.host, HOST_PORT))).toBe(link.peer);
    expect(await askUdpFromHost('127.0.0.1', HOST_PORT)).toBe(info.gateway);
  });

  it('refuses a host port published already or used by another program', async () => {
    const err = await net.publish(B, att[B]!.ip, parsePortMappings([`127.0.0.1:${HOST_PORT}:80`])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain(`already published by container ${A.slice(0, 12)}`);
    const s = createServer();
    hostServers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await expect(net.publish(B, att[B]!.ip, parsePortMappings([`${port}:80`]))).rejects.toThrow(`is in use by another program (listening on 127.0.0.1:${port})`);
  });

  it("a container cannot reach the host's loopback-only services through the bridge (route_localnet guard)", async () => {
    const s = createServer((c) => c.end(`host-loopback ${c.remoteAddress}\n`));
    hostServers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    expect(await askTcpFromHost('127.0.0.1', port)).toBe('host-loopback 127.0.0.1');
    // In B (the test's own namespace), send 127.0.0.0/8 to the gateway instead of its own lo, as a
    // container with CAP_NET_ADMIN (or raw packets) could.
    sh('nsenter', [`--net=${store.path(B)}`, 'sh', '-c', `ip addr flush dev lo && ip link set lo down && echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet && ip route add 127.0.0.0/8 via ${info.gateway} dev eth0`]);
    expect(await runIn(store.path(B), tcpAsk('127.0.0.1', port, 1500))).toBe('TIMEOUT');
  });

  it('repair removes the veth and lease of a container it does not know, and its namespace', async () => {
    const veth = (await net.attach(C, await store.create(C))).hostVeth;
    expect(linkNames()).toContain(veth);
    const report = await net.repair([A, B]);
    expect(report.leases).toEqual([C]);
    expect(report.veths).toEqual([veth]);
    expect(linkNames()).not.toContain(veth);
    expect(await store.repair([A, B, INET])).toEqual([C.slice(0, 12)]);
    // The known containers are untouched.
    expect(await runIn(store.path(INET), tcpAsk(link.host, HOST_PORT))).toBe(link.peer);
  });

  it('teardown leaves no veth, table, lease, published port, namespace file or mount', async () => {
    killChildren();
    const veths = [att[A]!.hostVeth, att[B]!.hostVeth];
    await net.detach(A);
    await net.detach(B);
    await net.detach(B); // idempotent
    expect(sh('nft', ['list', 'table', 'inet', TABLE])).not.toContain('dnat ip to');
    expect(JSON.parse(readFileSync(join(dataRoot, 'network', BRIDGE, 'leases.json'), 'utf8')).leases).toEqual({});
    expect(await net.published()).toEqual({});
    execFileSync('ip', ['link', 'del', INET_VETH]);
    for (const id of [A, B, INET]) await store.remove(id);
    await store.remove(A); // idempotent
    await net.remove();
    await store.removeDir();

    const names = linkNames();
    for (const n of [...veths, BRIDGE, INET_VETH]) expect(names).not.toContain(n);
    expect(() => execFileSync('nft', ['list', 'table', 'inet', TABLE], { stdio: 'ignore' })).toThrow();
    expect(existsSync(join(dataRoot, 'network', BRIDGE))).toBe(false);
    expect(existsSync(store.dir)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(base);
    expect(existsSync(join(dataRoot, 'network')) ? readdirSync(join(dataRoot, 'network')) : []).toEqual([]);
  });
});
