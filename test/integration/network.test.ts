import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsStore } from '../../src/network/netns.js';
import { chooseSubnet, parseRoutes } from '../../src/network/subnet.js';
import { ExecaRunner } from '../../src/system/runner.js';
import { DAEMON, ROOT, corral, daemonArgs, daemonPid, installation, sleep, uniqueName, waitForSocket, waitGone } from '../support/corral.js';
import { findNetworkLeaks, links } from '../support/leaks.js';

/**
 * Containers on networks, end to end through the CLI of the test installation (its own bridge
 * prefix, so its bridges and tables are its own). Traffic flows only between namespaces this file
 * makes and the host's loopback: "the internet" is a namespace of the test's own behind a
 * point-to-point veth with 198.19.x.x benchmark addresses (RFC 2544), routed via the host.
 */

const PID = process.pid;
const PORT = 32000 + (PID % 2000) * 4; // four host ports of this run's own: PORT..PORT+3
const INET_VETH = `tnet${PID}`.slice(0, 15);
const INET_ID = `inet${'0'.repeat(60)}${PID}`.slice(0, 64);

let base = '';
let netns: NetnsStore;
let inet = ''; // the "internet" namespace file
const link = { host: '', peer: '' };
const subnets = { a: '', b: '', c: '' };
const nets = { a: `neta-${PID}`, b: `netb-${PID}`, c: `netc-${PID}` };
const children = new Set<ChildProcess>();
const hostServers: Server[] = [];

// ---- helpers ------------------------------------------------------------------------------------

function sh(file: string, args: string[], input?: string): string {
  return execFileSync(file, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}), stdio: [input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
}

async function ok(args: string[]): Promise<string> {
  const r = await corral(args);
  if (r.exitCode !== 0) throw new Error(`corral ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function inspect(name: string): Promise<any> {
  return JSON.parse(await ok(['inspect', name]))[0];
}

// Debian's busybox wget crashes with -T (SIGSEGV): timeouts are given with `timeout N wget`.

/** A busybox web server answering `body`, logging each client's address (httpd -vv). */
async function web(name: string, body: string, extra: string[] = []): Promise<void> {
  await ok(['run', '-d', '--name', name, ...extra, 'busybox', 'sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -vv -p 80 -h /www`]);
}

/** A node program inside a namespace, kept running; resolves once it printed `listening`. */
async function serveIn(file: string, script: string): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=${file}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server in ${file} did not start: ${out}`)), 5000);
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
      reject(new Error(`server in ${file} exited ${code}: ${out}`));
    });
  });
  return child;
}

/** A short node program inside a namespace; its stdout, trimmed. */
function runIn(file: string, script: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('nsenter', [`--net=${file}`, process.execPath, '-e', script], { timeout: 10_000 }, (_err, stdout) => resolve(String(stdout).trim()));
  });
}

/** An HTTP server answering each request with the client's address as it sees it. */
const httpEcho = (port: number, host: string): string =>
  `require('http').createServer((q,s)=>s.end(q.socket.remoteAddress.replace(/^::ffff:/,'')+'\\n')).listen(${port},'${host}',()=>console.log('listening'))`;
const udpEcho = (port: number): string =>
  `const d=require('dgram').createSocket('udp4');d.on('message',(m,r)=>d.send(r.address,r.port,r.address));d.bind(${port},()=>console.log('listening'))`;
const httpGet = (host: string, port: number): string =>
  `require('http').get({host:'${host}',port:${port},path:'/',timeout:3000},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(b.trim()))}).on('error',e=>console.log('ERR '+e.code)).on('timeout',function(){console.log('TIMEOUT');this.destroy()})`;
const udpAsk = (host: string, port: number): string =>
  `const d=require('dgram').createSocket('udp4');d.on('message',m=>{console.log(String(m));process.exit(0)});d.send('x',${port},'${host}');setTimeout(()=>{console.log('TIMEOUT');process.exit(2)},3000)`;

function getFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: 3000 }, (res) => {
      let b = '';
      res.on('data', (d) => (b += String(d)));
      res.on('end', () => resolve(b.trim()));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code}`));
    req.on('timeout', () => (req.destroy(), resolve('TIMEOUT')));
    req.end();
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

function leases(network: string): Record<string, { ip: string }> {
  const f = join(installation().dataRoot, 'network', network, 'leases.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')).leases : {};
}

/** Leaks of the installation that concern `ids` (short ids), for checks in the middle of the run. */
const leaksOf = (ids: Iterable<string>): string[] => findNetworkLeaks(installation()).filter((l) => [...ids].some((id) => l.includes(id.slice(0, 12))));

/** Ids of every container the installation has created (its event journal). */
function journalIds(): Set<string> {
  const f = join(installation().dataRoot, 'events.ndjson');
  const ids = new Set<string>();
  if (existsSync(f)) for (const m of readFileSync(f, 'utf8').matchAll(/"id":"([0-9a-f]{64})"/g)) ids.add(m[1]!);
  return ids;
}
let before = new Set<string>();

// ---- setup and teardown -------------------------------------------------------------------------

beforeAll(async () => {
  before = journalIds();
  base = mkdtempSync('/var/tmp/corral-net-e2e-');
  netns = new NetnsStore(join(base, 'run'), new ExecaRunner());
  const routes = parseRoutes(sh('ip', ['-j', '-4', 'route', 'show', 'table', 'all']));
  const third = (i: number): number => (PID + i) % 256;
  const p2p = chooseSubnet(routes, Array.from({ length: 32 }, (_, i) => `198.19.${third(i)}.0/30`));
  const p = p2p.split('/')[0]!.split('.').slice(0, 3).join('.');
  link.host = `${p}.1`;
  link.peer = `${p}.2`;
  const free = chooseSubnet.bind(null, routes);
  subnets.a = free(Array.from({ length: 32 }, (_, i) => `10.214.${third(i)}.0/24`));
  subnets.b = free(Array.from({ length: 32 }, (_, i) => `10.215.${third(i)}.0/24`));
  subnets.c = free(Array.from({ length: 32 }, (_, i) => `10.216.${third(i)}.0/24`));
  // "The internet": no route back to any container subnet; it only ever sees the host's address.
  inet = await netns.create(INET_ID);
  sh('ip', ['link', 'add', INET_VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', inet]);
  sh('ip', ['addr', 'add', `${link.host}/30`, 'dev', INET_VETH]);
  sh('ip', ['link', 'set', INET_VETH, 'up']);
  sh('nsenter', [`--net=${inet}`, 'ip', '-batch', '-'], `addr add ${link.peer}/30 dev eth0\nlink set eth0 up\nlink set lo up\n`);
});

afterAll(async () => {
  killChildren();
  for (const s of hostServers) s.close();
  const ps = JSON.parse((await corral(['ps', '-a', '--format', 'json'])).stdout || '[]') as { name: string }[];
  const mine = ps.map((c) => c.name).filter((n) => n.includes(`-${PID}-`));
  if (mine.length > 0) await corral(['rm', '-f', ...mine]);
  for (const n of Object.values(nets)) await corral(['network', 'rm', n]);
  if (links().some((l) => l.ifname === INET_VETH)) execFileSync('ip', ['link', 'del', INET_VETH]);
  await netns.remove(INET_ID).catch(() => {});
  await netns.removeDir().catch(() => {});
  if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(base)) rmSync(base, { recursive: true, force: true });
});

// ---- tests ----------------------------------------------------------------------------------------

describe('corral network: create, ls, inspect, rm', () => {
  it('creates user networks with their own subnet, bridge and nftables table', async () => {
    expect(await ok(['network', 'create', '--subnet', subnets.a, nets.a])).toBe(`${nets.a}\n`);
    await ok(['network', 'create', '--subnet', subnets.b, nets.b]);
    const ls = await ok(['network', 'ls']);
    expect(ls.split('\n')[0]).toMatch(/^NAME\s+DRIVER\s+BRIDGE\s+SUBNET\s+GATEWAY\s+CONTAINERS$/);
    expect(ls).toMatch(new RegExp(`${nets.a}\\s+bridge\\s+${installation().bridgePrefix}\\d+\\s+${subnets.a.replace(/\./g, '\\.')}`));
    for (const mode of ['bridge', 'host', 'none']) expect(ls).toMatch(new RegExp(`^${mode}\\s`, 'm'));
    const [a] = JSON.parse(await ok(['network', 'inspect', nets.a]));
    expect(a).toMatchObject({ name: nets.a, driver: 'bridge', subnet: subnets.a, gateway: subnets.a.replace(/\.0\/24$/, '.1'), endpoints: [], configured: [] });
    expect(a.bridge).toMatch(new RegExp(`^${installation().bridgePrefix}[1-9]\\d*$`));
    expect(a.table).toBe(`inet ${a.bridge}`);
    const [b] = JSON.parse(await ok(['network', 'inspect', nets.b]));
    expect(b.bridge).not.toBe(a.bridge);
    expect(JSON.parse(await ok(['network', 'ls', '--format', 'json'])).map((n: { name: string }) => n.name)).toEqual(expect.arrayContaining([nets.a, nets.b, 'bridge', 'host', 'none']));
  });

  it('refuses bad input with a clear error and makes nothing', async () => {
    const before = await ok(['network', 'ls', '-q']);
    const refuse = async (args: string[], message: RegExp): Promise<void> => {
      const r = await corral(['network', 'create', ...args]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
    };
    await refuse(['--subnet', 'nonsense', nets.c], /invalid subnet "nonsense"/);
    await refuse(['--subnet', '10.217.0.5/24', nets.c], /host bits are set \(the network is 10\.217\.0\.0\/24\)/);
    await refuse(['--subnet', '127.0.0.0/24', nets.c], /overlaps 127\.0\.0\.0\/8 \(loopback\)/);
    await refuse(['--subnet', subnets.a.replace(/\/24$/, '/25'), nets.c], new RegExp(`overlaps network ${nets.a}`));
    await refuse(['--subnet', `${link.host.split('.').slice(0, 3).join('.')}.0/24`, nets.c], /overlaps the host route to 198\.19\.\d+\.0\/30/);
    await refuse([nets.a], new RegExp(`network ${nets.a} already exists`));
    await refuse(['host'], /network name host is reserved/);
    await refuse(['bad/name'], /invalid network name/);
    expect(await ok(['network', 'ls', '-q'])).toBe(before);
    const rm = await corral(['network', 'rm', 'bridge']);
    expect(rm.stderr).toMatch(/default network and cannot be removed/);
    expect((await corral(['network', 'rm', `nosuch-${PID}`])).stderr).toMatch(/network nosuch-\d+ not found/);
  });

  it('refuses to remove a network while a container, even a stopped one, is configured with it', async () => {
    await ok(['network', 'create', '--subnet', subnets.c, nets.c]);
    const name = uniqueName('netuser');
    await ok(['create', '--name', name, '--network', nets.c, 'busybox', 'true']);
    const r = await corral(['network', 'rm', nets.c]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`network ${nets.c} is in use by 1 container(s): ${name}`);
    const [c] = JSON.parse(await ok(['network', 'inspect', nets.c]));
    expect(c.configured.map((x: { name: string }) => x.name)).toEqual([name]);
    await ok(['rm', name]);
    await ok(['network', 'rm', nets.c]);
    expect((await ok(['network', 'ls', '-q'])).split('\n')).not.toContain(nets.c);
    expect(links().map((l) => l.ifname)).not.toContain(c.bridge);
    expect(existsSync(join(installation().dataRoot, 'network', nets.c))).toBe(false);
  });
});

describe('containers on one network reach each other by name', () => {
  it('busybox httpd answers wget by container name and by --network-alias', async () => {
    const srv = uniqueName('web');
    await web(srv, 'hello-by-name', ['--network', nets.a, '--network-alias', `www-${PID}`]);
    try {
      const out = await ok(['run', '--rm', '--network', nets.a, 'busybox', 'sh', '-c', `timeout 5 wget -q -O- http://${srv}/; timeout 5 wget -q -O- http://www-${PID}/`]);
      expect(out).toBe('hello-by-name\nhello-by-name\n');
    } finally {
      await corral(['rm', '-f', srv]);
    }
  });

  it("/etc/hosts follows containers as they come and go, rewritten in place (same inode)", async () => {
    const srv = uniqueName('hosts');
    const peer = uniqueName('peer');
    await ok(['run', '-d', '--name', srv, '--network', nets.a, 'busybox', 'sleep', '300']);
    try {
      const hosts = async (): Promise<{ inode: string; text: string }> => {
        const [inode, ...rest] = (await ok(['exec', srv, 'sh', '-c', 'stat -c %i /etc/hosts; cat /etc/hosts'])).split('\n');
        return { inode: inode!, text: rest.join('\n') };
      };
      const h0 = await hosts();
      expect(h0.text).toMatch(new RegExp(`^${subnets.a.split('.').slice(0, 3).join('\\.')}\\.\\d+\\t${srv}$`, 'm'));
      expect(h0.text).not.toContain(peer);
      await ok(['run', '-d', '--name', peer, '--network', nets.a, 'busybox', 'sleep', '300']);
      const ip = (await inspect(peer)).networkSettings.ipAddress as string;
      const h1 = await hosts();
      expect(h1.text).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}\\t${peer}$`, 'm'));
      expect(h1.inode).toBe(h0.inode);
      expect(await ok(['exec', srv, 'ping', '-c', '1', '-W', '2', peer])).toMatch(/1 packets received/);
      await ok(['rm', '-f', peer]);
      const h2 = await hosts();
      expect(h2.text).not.toContain(peer);
      expect(h2.inode).toBe(h0.inode);
    } finally {
      await corral(['rm', '-f', srv, peer]);
    }
  });

  it('containers on different networks cannot reach each other; one on both reaches both', async () => {
    const srv = uniqueName('iso-web');
    await web(srv, 'only-on-a', ['--network', nets.a]);
    try {
      const ip = (await inspect(srv)).networkSettings.ipAddress as string;
      const fromB = await corral(['run', '--rm', '--network', nets.b, 'busybox', 'sh', '-c', `timeout 2 wget -q -O- http://${ip}/ || echo blocked; ping -c 1 -W 1 ${ip} >/dev/null 2>&1 || echo no-ping; grep -c ${srv} /etc/hosts || true`]);
      expect(fromB.stdout).toBe('blocked\nno-ping\n0\n');
      const both = await ok(['run', '--rm', '--network', nets.b, '--network', nets.a, 'busybox', 'sh', '-c', `ls /sys/class/net | tr '\\n' ' '; echo; ip route | grep default; timeout 5 wget -q -O- http://${srv}/`]);
      const [ifs, route, body] = both.split('\n');
      expect(ifs!.trim()).toBe('eth0 eth1 lo');
      expect(route).toContain(`via ${subnets.b.replace(/\.0\/24$/, '.1')} dev eth0`);
      expect(body).toBe('only-on-a');
    } finally {
      await corral(['rm', '-f', srv]);
    }
  });

  it('--ip gives a fixed address, shown by inspect and ps; a taken or foreign one is refused', async () => {
    const name = uniqueName('fixed');
    const ip = subnets.a.replace(/\.0\/24$/, '.77');
    await ok(['run', '-d', '--name', name, '--network', nets.a, '--ip', ip, 'busybox', 'sleep', '300']);
    try {
      const s = (await inspect(name)).networkSettings;
      expect(s).toMatchObject({ mode: 'bridge', ipAddress: ip, gateway: subnets.a.replace(/\.0\/24$/, '.1') });
      expect(s.networks[nets.a]).toMatchObject({ ipAddress: ip, ifname: 'eth0', prefixLen: 24, macAddress: `02:42:${ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}` });
      const row = JSON.parse(await ok(['ps', '--format', 'json'])).find((c: { name: string }) => c.name === name);
      expect(row.networks).toEqual([{ name: nets.a, ip }]);
      const other = uniqueName('fixed-again');
      const taken = await corral(['run', '-d', '--name', other, '--network', nets.a, '--ip', ip, 'busybox', 'true']);
      expect(taken.exitCode).toBe(125);
      expect(taken.stderr).toMatch(new RegExp(`--ip ${ip.replace(/\./g, '\\.')}: already in use on ${nets.a}`));
      const outside = await corral(['create', '--name', other, '--network', nets.a, '--ip', '10.1.2.3', 'busybox', 'true']);
      expect(outside.stderr).toMatch(new RegExp(`invalid --ip 10\\.1\\.2\\.3: outside network ${nets.a}'s subnet`));
      const gw = await corral(['create', '--name', other, '--network', nets.a, '--ip', subnets.a.replace(/\.0\/24$/, '.1'), 'busybox', 'true']);
      expect(gw.stderr).toMatch(/the gateway of network/);
      expect((await ok(['ps', '-a', '--format', 'json'])).includes(other)).toBe(false);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});

describe('egress and published ports', () => {
  it('a container reaches "the internet" through NAT: the server sees the host\'s address', async () => {
    await serveIn(inet, httpEcho(7000, link.peer));
    const out = await ok(['run', '--rm', 'busybox', 'timeout', '5', 'wget', '-q', '-O-', `http://${link.peer}:7000/`]);
    expect(out.trim()).toBe(link.host);
  });

  it("a published TCP port: the server in the container sees a remote client's own address; 127.0.0.1 and hairpin work", async () => {
    const srv = uniqueName('pub');
    await web(srv, 'published', ['-p', `${PORT}:80`]);
    try {
      const s = (await inspect(srv)).networkSettings;
      expect(s.ports).toEqual([{ hostIp: '0.0.0.0', hostPort: PORT, containerPort: 80, protocol: 'tcp' }]);
      // From another namespace (a machine elsewhere), to the host's address on that link.
      expect(await runIn(inet, httpGet(link.host, PORT))).toBe('published');
      // From the host itself, on loopback.
      expect(await getFromHost('127.0.0.1', PORT)).toBe('published');
      // From another container, through the host (hairpin).
      expect(await ok(['run', '--rm', 'busybox', 'timeout', '5', 'wget', '-q', '-O-', `http://${s.gateway}:${PORT}/`])).toBe('published\n');
      await sleep(200);
      const log = (await corral(['logs', srv])).stderr;
      // httpd -vv logs each peer: the remote client as itself, host-local and hairpin clients as the gateway.
      expect(log).toContain(`[::ffff:${link.peer}]:`);
      expect(log).toContain(`[::ffff:${s.gateway}]:`);
      const ps = await ok(['ps']);
      expect(ps).toMatch(new RegExp(`${srv}.*0\\.0\\.0\\.0:${PORT}->80/tcp`));
    } finally {
      await corral(['rm', '-f', srv]);
    }
    expect(await getFromHost('127.0.0.1', PORT)).toMatch(/^ERR/);
  });

  it('a published UDP port answers a remote client and the host', async () => {
    const name = uniqueName('udp');
    await ok(['run', '-d', '--name', name, '-p', `${PORT + 1}:5353/udp`, 'busybox', 'sleep', '300']);
    try {
      const s = (await inspect(name)).networkSettings;
      // busybox has no UDP server: a node one runs in the container's network namespace.
      await serveIn(s.sandboxKey, udpEcho(5353));
      expect(await runIn(inet, udpAsk(link.host, PORT + 1))).toBe(link.peer);
      expect(await askUdpFromHost('127.0.0.1', PORT + 1)).toBe(s.gateway);
    } finally {
      killChildren();
      await corral(['rm', '-f', name]);
    }
  });

  it('-P publishes the --expose ports on random free host ports', async () => {
    const srv = uniqueName('puball');
    await web(srv, 'random-port', ['-P', '--expose', '80']);
    try {
      const ports = (await inspect(srv)).networkSettings.ports;
      expect(ports).toHaveLength(1);
      expect(ports[0]).toMatchObject({ hostIp: '0.0.0.0', containerPort: 80, protocol: 'tcp' });
      expect(await getFromHost('127.0.0.1', ports[0].hostPort)).toBe('random-port');
    } finally {
      await corral(['rm', '-f', srv]);
    }
  });

  it('a host port in use, by a container or by another program, is refused at create; nothing is left', async () => {
    const srv = uniqueName('holder');
    await ok(['run', '-d', '--name', srv, '-p', `${PORT + 2}:80`, 'busybox', 'sleep', '300']);
    const leasesBefore = Object.keys(leases('bridge'));
    const s = createServer();
    hostServers.push(s);
    await new Promise<void>((r) => s.listen(PORT + 3, '127.0.0.1', r));
    try {
      const other = uniqueName('clash');
      const byCorral = await corral(['run', '-d', '--name', other, '-p', `127.0.0.1:${PORT + 2}:8080`, 'busybox', 'true']);
      expect(byCorral.exitCode).toBe(125);
      expect(byCorral.stderr).toContain(`host port ${PORT + 2}/tcp is already published by container ${srv}`);
      const byProgram = await corral(['create', '--name', other, '-p', `${PORT + 3}:80`, 'busybox', 'true']);
      expect(byProgram.exitCode).toBe(1);
      expect(byProgram.stderr).toContain(`host port ${PORT + 3}/tcp is in use by another program (listening on 127.0.0.1:${PORT + 3})`);
      const bad = await corral(['create', '--name', other, '-p', '80', 'busybox', 'true']);
      expect(bad.stderr).toMatch(/invalid -p "80": a host port and a container port are required/);
      const none = await corral(['create', '--name', other, '--network', 'none', '-p', '8080:80', 'busybox', 'true']);
      expect(none.stderr).toMatch(/-p: need a bridge network/);
      const unknown = await corral(['run', '--rm', '--name', other, '--network', `nosuch-${PID}`, 'busybox', 'true']);
      expect(unknown.exitCode).toBe(125);
      expect(unknown.stderr).toMatch(/network nosuch-\d+ not found/);
      expect(await ok(['ps', '-a', '--format', 'json'])).not.toContain(other);
      expect(Object.keys(leases('bridge'))).toEqual(leasesBefore);
    } finally {
      await corral(['rm', '-f', srv]);
      s.close();
    }
  });
});

describe('host and none modes, DNS', () => {
  it('--network host shares the host network namespace, with a warning in create and inspect', async () => {
    const name = uniqueName('hostnet');
    const r = await corral(['create', '--name', name, '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    expect(r.stderr).toMatch(/warning: --network host: the container shares the host's network namespace/);
    try {
      expect((await inspect(name)).networkSettings.warnings[0]).toMatch(/shares the host's network namespace/);
      await ok(['start', name]);
      await ok(['wait', name]);
      // The host's interfaces (others may come and go meanwhile: check ones that stay).
      const inside = (await ok(['logs', name])).trim().split('\n');
      expect(inside).toEqual(expect.arrayContaining(['lo', INET_VETH, `${installation().bridgePrefix}0`]));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('resolv.conf follows the host minus loopback resolvers, or --dns', async () => {
    const host = readFileSync('/etc/resolv.conf', 'utf8');
    const want = host.split('\n').filter((l) => /^nameserver\s/.test(l) && !/\s(127\.|::1)/.test(l));
    const def = (await ok(['run', '--rm', 'busybox', 'cat', '/etc/resolv.conf'])).split('\n').filter((l) => l.startsWith('nameserver'));
    expect(def).toEqual(want);
    const dns = await ok(['run', '--rm', '--dns', '192.0.2.53', '--dns', '192.0.2.54', 'busybox', 'cat', '/etc/resolv.conf']);
    expect(dns.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(['nameserver 192.0.2.53', 'nameserver 192.0.2.54']);
    expect((await corral(['create', '--dns', 'not-an-ip', 'busybox'])).stderr).toMatch(/invalid --dns "not-an-ip"/);
  });
});

describe('leases and repair across corrald crashes', () => {
  it('leases survive kill -9 of corrald: a live container keeps its address and no new one gets it', async () => {
    const keep = uniqueName('keep');
    await ok(['run', '-d', '--name', keep, 'busybox', 'sleep', '300']);
    const made: string[] = [];
    try {
      const ip = (await inspect(keep)).networkSettings.ipAddress as string;
      const id = (await inspect(keep)).id as string;
      const pid = daemonPid()!;
      process.kill(pid, 'SIGKILL');
      await waitGone(pid);
      // The next command starts a new corrald, which repairs and keeps what is live.
      for (let i = 0; i < 3; i++) {
        const n = uniqueName('after');
        made.push(n);
        await ok(['run', '-d', '--name', n, 'busybox', 'sleep', '300']);
        expect((await inspect(n)).networkSettings.ipAddress).not.toBe(ip);
      }
      expect(leases('bridge')[id]?.ip).toBe(ip);
      expect((await inspect(keep)).networkSettings.ipAddress).toBe(ip);
      expect(await ok(['exec', made[0]!, 'ping', '-c', '1', '-W', '2', keep])).toMatch(/1 packets received/);
    } finally {
      await corral(['rm', '-f', keep, ...made]);
    }
  });

  it('a crash between making the veth and recording it is repaired at the next corrald start', async () => {
    const name = uniqueName('crash-net');
    await ok(['create', '--name', name, 'busybox', 'sleep', '300']);
    const id = (await inspect(name)).id as string;
    // A corrald that kills itself right after the veth, lease and namespace are made.
    const pid = daemonPid();
    if (pid) {
      process.kill(pid, 'SIGTERM');
      await waitGone(pid);
    }
    const inst = installation();
    const child = spawn(process.execPath, [DAEMON, ...daemonArgs(inst)], { cwd: ROOT, env: { ...process.env, CORRAL_CRASH_AT: 'start:network-attached' }, stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
    for (let i = 0; i < 100 && daemonPid() !== child.pid; i++) await sleep(50);
    await waitForSocket(inst, child);
    expect((await corral(['start', name])).exitCode).not.toBe(0);
    expect(await exited).toBe('SIGKILL');
    expect(leaksOf([id]).length).toBeGreaterThanOrEqual(3); // veth, netns file, lease
    // Any command starts a clean corrald, which repairs.
    expect(JSON.parse(await ok(['inspect', name]))[0].state.status).toBe('created');
    expect(leaksOf([id])).toEqual([]);
    await ok(['start', name]);
    expect((await inspect(name)).networkSettings.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await ok(['rm', '-f', name]);
    // The veth goes with the namespace, which the kernel destroys asynchronously (milliseconds).
    for (let i = 0; i < 40 && leaksOf([id]).length > 0; i++) await sleep(50);
    expect(leaksOf([id])).toEqual([]);
  });
});

describe('hygiene', () => {
  it('after everything is removed: no veth, no DNAT rule, no lease, no namespace file of ours', async () => {
    killChildren();
    for (const n of [nets.a, nets.b]) await ok(['network', 'rm', n]);
    // Everything of the containers this file made (other files' containers are theirs to check).
    const mine = [...journalIds()].filter((id) => !before.has(id));
    expect(mine.length).toBeGreaterThan(20);
    expect(leaksOf(mine)).toEqual([]);
    expect(findNetworkLeaks(installation()).filter((l) => l.startsWith('user network'))).toEqual([]);
    const tables = sh('nft', ['list', 'tables']);
    for (const n of [nets.a, nets.b]) expect(tables).not.toContain(`${n}`);
    // Only the default network's bridge and base table remain (as docker0 does), and no rule in its ports chain.
    const prefix = installation().bridgePrefix!;
    expect(links().filter((l) => l.ifname.startsWith(prefix)).map((l) => l.ifname)).toEqual([`${prefix}0`]);
    expect(sh('nft', ['list', 'chain', 'inet', `${prefix}0`, 'ports'])).not.toContain('dnat');
  });
});
