import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from './installation.js';

/**
 * A bridge that checks who is talking (issue 10), as one scenario for the host tier
 * (test/integration/bridge-filter) and the cgroup v2 VM (test/vm/attacks): container root
 * (CAP_NET_RAW is a default capability) writes raw frames (test/integration/fixtures/spoof.c)
 * claiming the gateway's address, a neighbour's address and the victim's own MAC, at another
 * container of the test's own on the default bridge. Nothing is sent beyond the installation's
 * bridge: the frames go to the victim's MAC or to the bridge's broadcast domain.
 */
export interface SpoofTest {
  corral: (args: string[]) => Promise<CliResult>;
  runRoot: string;
  /** A directory holding the static `spoof` binary, open to the container's uid. */
  spoofDir: string;
  port: number;
  /** Monitors started here, for the caller's afterAll to kill. */
  children: ChildProcess[];
  /** Containers made here, for the caller's afterAll to remove. */
  made: string[];
  /** How long to wait for one kernel event (a VM under TCG is slow). */
  waitMs?: number;
}

async function ok(t: SpoofTest, args: string[]): Promise<string> {
  const r = await t.corral(args);
  if (r.exitCode !== 0) throw new Error(`corral ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function until<T>(t: SpoofTest, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + (t.waitMs ?? 20_000);
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 120));
  }
}

export async function container(t: SpoofTest, name: string, extra: string[] = []): Promise<{ id: string; ip: string; mac: string; gateway: string; veth: string; bridge: string; netns: string }> {
  t.made.push(name);
  await ok(t, ['run', '-d', '--name', name, ...extra, 'busybox', 'sleep', '600']);
  const c = JSON.parse(await ok(t, ['inspect', name]))[0];
  const e = c.networkSettings.networks.bridge;
  return { id: c.id, ip: e.ipAddress, mac: e.macAddress, gateway: e.gateway, veth: e.hostVeth, bridge: e.bridge, netns: join(t.runRoot, 'netns', String(c.id).slice(0, 12)) };
}

/** The MAC Corral gives an address (and the bridge its gateway): 02:42 + the four bytes. */
const macOf = (ip: string): string => ['02', '42', ...ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0'))].join(':');

/** IP → MAC from the victim's own neighbour table, read from inside. */
async function arpTable(t: SpoofTest, name: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const l of (await ok(t, ['exec', name, 'cat', '/proc/net/arp'])).split('\n').slice(1)) {
    const [ip, , flags, mac] = l.trim().split(/\s+/);
    if (ip && mac && flags !== '0x0') out[ip] = mac;
  }
  return out;
}

/** Named counters in the victim's network namespace (made by the test, gone with the container). */
function countIn(netns: string, rules: Record<string, string>): () => Record<string, number> {
  const script = [
    'add table inet spoofcount',
    ...Object.keys(rules).map((n) => `add counter inet spoofcount ${n}`),
    'add chain inet spoofcount pre { type filter hook prerouting priority -400; policy accept; }',
    ...Object.entries(rules).map(([n, match]) => `add rule inet spoofcount pre ${match} counter name ${n}`),
    '',
  ].join('\n');
  execFileSync('nsenter', [`--net=${netns}`, 'nft', '-f', '-'], { input: script });
  return () => {
    const j = JSON.parse(execFileSync('nsenter', [`--net=${netns}`, 'nft', '-j', 'list', 'counters', 'table', 'inet', 'spoofcount'], { encoding: 'utf8' }));
    const out: Record<string, number> = {};
    for (const x of j.nftables) if (x.counter) out[x.counter.name] = x.counter.packets;
    return out;
  };
}

/**
 * Every change the kernel reports (`ip monitor neigh` in the victim's namespace, `bridge monitor fdb`):
 * a poisoned neighbour entry is repaired by the victim's own probes within seconds and a stolen MAC
 * moves back when the victim next sends, so reading the tables afterwards is not enough.
 */
function watch(t: SpoofTest, argv: string[]): { lines: () => string[] } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += String(d)));
  return { lines: () => out.split('\n').filter(Boolean) };
}

/** ARP and IP spoofing of the gateway and a neighbour, and MAC stealing, are dropped; honest frames pass. */
export async function spoofScenario(t: SpoofTest, suffix: string): Promise<void> {
  const victim = await container(t, `victim-${suffix}`);
  const attacker = await container(t, `attacker-${suffix}`, ['-v', `${t.spoofDir}:/spoof:ro`]);
  const neighbour = victim.ip.split('.').slice(0, 3).join('.') + '.250';
  const counters = countIn(victim.netns, {
    forged_gateway: `udp dport ${t.port} ip saddr ${victim.gateway}`,
    forged_neighbour: `udp dport ${t.port} ip saddr ${neighbour}`,
    honest: `udp dport ${t.port} ip saddr ${attacker.ip}`,
    ipv6: 'ip6 saddr fe80::66',
  });
  // The victim knows its gateway (the bridge's fixed MAC) before the attack.
  await ok(t, ['exec', victim.id, 'ping', '-c', '1', '-W', '5', victim.gateway]);
  expect((await arpTable(t, victim.id))[victim.gateway]).toBe(macOf(victim.gateway));
  const neigh = watch(t, ['nsenter', `--net=${victim.netns}`, 'ip', 'monitor', 'neigh']);
  const fdb = watch(t, ['bridge', 'monitor', 'fdb']);
  // A monitor is listening once it reports a change made by hand: a neighbour entry in the
  // victim's namespace, a static FDB entry on the installation's bridge (events of one socket
  // come in order, so the second marker also says every learning event before it was read).
  execFileSync('nsenter', [`--net=${victim.netns}`, 'ip', 'neigh', 'replace', '192.0.2.99', 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0']);
  const fdbMarker = async (mac: string): Promise<void> => {
    execFileSync('bridge', ['fdb', 'add', mac, 'dev', attacker.veth, 'master', 'static']);
    await until(t, `FDB event for ${mac}`, async () => (fdb.lines().some((l) => l.startsWith(`${mac} dev ${attacker.veth} `)) ? true : undefined));
    execFileSync('bridge', ['fdb', 'del', mac, 'dev', attacker.veth, 'master']);
  };
  await until(t, 'the neighbour monitor', async () => (neigh.lines().some((l) => l.startsWith('192.0.2.99 ')) ? true : undefined));
  await fdbMarker('02:00:00:00:00:98');

  const sent = await t.corral(['exec', attacker.id, '/spoof/spoof', 'eth0', victim.gateway, victim.ip, victim.mac, String(t.port)]);
  expect(sent.exitCode, sent.stderr).toBe(0);
  expect(sent.stdout).toContain('sent honest ARP request');

  // The honest ARP request was written last, from one CPU: once the victim learnt the attacker's
  // address from it, every frame before it was judged and every neighbour change reported.
  await until(t, "the attacker's honest ARP entry", async () => (neigh.lines().some((l) => l.startsWith(`${attacker.ip} dev eth0 lladdr ${attacker.mac} `)) ? true : undefined));
  expect(counters().honest).toBe(1);
  const gatewayAs = neigh.lines().filter((l) => l.startsWith(`${victim.gateway} `)).map((l) => /lladdr (\S+)/.exec(l)?.[1]).filter((m) => m !== undefined);
  expect.soft(gatewayAs.filter((m) => m !== macOf(victim.gateway))).toEqual([]);
  // Each crossing is asserted on its own (soft), so a failure lists every one that got through.
  const arp = await arpTable(t, victim.id);
  expect.soft(arp[victim.gateway]).toBe(macOf(victim.gateway));
  expect.soft(Object.values(arp)).not.toContain('02:66:66:66:66:66');
  expect.soft(counters()).toMatchObject({ forged_gateway: 0, forged_neighbour: 0, ipv6: 0 });
  // The bridge never learnt the victim's MAC on the attacker's port.
  await fdbMarker('02:00:00:00:00:97');
  expect.soft(fdb.lines().filter((l) => l.startsWith(`${victim.mac} dev ${attacker.veth} `))).toEqual([]);
  // Honest traffic still flows both ways.
  expect(await ok(t, ['exec', attacker.id, 'ping', '-c', '1', '-W', '5', victim.ip])).toMatch(/1 packets received/);
  expect(await ok(t, ['exec', victim.id, 'ping', '-c', '1', '-W', '5', attacker.ip])).toMatch(/1 packets received/);
  await ok(t, ['rm', '-f', victim.id, attacker.id]);
}
