import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Everything of one Corral installation that could outlive a test, found from the kernel. */
export interface Leaks {
  processes: string[];
  mounts: string[];
  cgroups: string[];
  stateDirs: string[];
  /** veths of the installation's containers, netns files, leases, port records and rules, user networks. */
  network: string[];
  /** The installation's lxcfs: a live process its pid file names, or its FUSE mount. */
  lxcfs: string[];
  /** Loop devices backed by a file under the data root (containers' disk images). */
  loops: string[];
}

export function findLeaks(o: { dataRoot: string; runRoot: string; cgroupParent: string; cgroupRoot?: string; ignorePids?: number[]; bridgePrefix?: string }): Leaks {
  const cgroupRoot = o.cgroupRoot ?? '/sys/fs/cgroup';
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (o.ignorePids?.includes(Number(pid))) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.includes(o.dataRoot) || cmd.includes(o.runRoot)) processes.push(`${pid}: ${cmd.trim()}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(o.dataRoot) || l.includes(o.runRoot));
  const cgroups: string[] = [];
  for (const h of existsSync(cgroupRoot) ? readdirSync(cgroupRoot) : []) {
    const parent = join(cgroupRoot, h, o.cgroupParent);
    const candidates = existsSync(join(cgroupRoot, 'cgroup.controllers')) ? [join(cgroupRoot, o.cgroupParent)] : [parent];
    for (const p of candidates) {
      if (!existsSync(p)) continue;
      for (const child of readdirSync(p)) if (statSync(join(p, child)).isDirectory()) cgroups.push(join(p, child));
    }
  }
  const containers = join(o.dataRoot, 'containers');
  const stateDirs = existsSync(containers) ? readdirSync(containers).map((d) => join(containers, d)) : [];
  return { processes, mounts, cgroups: [...new Set(cgroups)], stateDirs, network: findNetworkLeaks(o), lxcfs: findLxcfsLeaks(o.runRoot), loops: loopDevicesUnder(o.dataRoot) };
}

/** corrald stops its lxcfs when no container reads through it; after the last container, none may be left. */
export function findLxcfsLeaks(runRoot: string): string[] {
  const out: string[] = [];
  const pidFile = join(runRoot, 'lxcfs.pid');
  const pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  if (/^\d+$/.test(pid) && existsSync(`/proc/${pid}`)) out.push(`lxcfs process ${pid} (${pidFile})`);
  const mnt = join(runRoot, 'lxcfs');
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (l.split(' ')[4] === mnt) out.push(`lxcfs mount ${l}`);
  return out;
}

/** `losetup -J -l`: loop devices whose backing file is under `dir` (deleted ones too), as `NAME FILE`. */
export function loopDevicesUnder(dir: string): string[] {
  const text = spawnSync('losetup', ['-J', '-l'], { encoding: 'utf8' }).stdout ?? '';
  if (text.trim() === '') return [];
  const devices = (JSON.parse(text) as { loopdevices?: { name: string; 'back-file'?: string | null }[] }).loopdevices ?? [];
  return devices.filter((d) => (d['back-file'] ?? '').startsWith(`${dir}/`)).map((d) => `${d.name} ${d['back-file']}`);
}

const run = (file: string, args: string[]): string => {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
};

/** Our bridges and tables: `<prefix><n>`. */
export function ourNames(prefix: string, names: readonly string[]): string[] {
  return names.filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)));
}

/** Names of the nftables tables of one family (Corral's: inet for NAT and ports, bridge for the sender filter). */
export function nftTables(family: 'inet' | 'bridge' = 'inet'): string[] {
  return run('nft', ['list', 'tables'])
    .split('\n')
    .map((l) => new RegExp(`^table ${family} (\\S+)$`).exec(l.trim())?.[1])
    .filter((t): t is string => t !== undefined);
}

/** Veths with a sender filter (a chain or a `senders` map element) in bridge table `t`. */
export function guardedVeths(t: string): string[] {
  const text = run('nft', ['-j', 'list', 'table', 'bridge', t]);
  if (!text) return [];
  const out = new Set<string>();
  for (const item of (JSON.parse(text) as { nftables?: { chain?: { name?: string }; map?: { name?: string; elem?: unknown[] } }[] }).nftables ?? []) {
    if (item.chain?.name && item.chain.name !== 'prerouting') out.add(item.chain.name);
    if (item.map?.name === 'senders') for (const e of item.map.elem ?? []) if (Array.isArray(e) && typeof e[0] === 'string') out.add(e[0]);
  }
  return [...out].sort();
}

export function links(): { ifname: string; master?: string; kind?: string }[] {
  const text = run('ip', ['-j', '-d', 'link', 'show']);
  return text ? (JSON.parse(text) as { ifname: string; master?: string; linkinfo?: { info_kind?: string } }[]).map((l) => ({ ifname: l.ifname, ...(l.master ? { master: l.master } : {}), ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}) })) : [];
}

/**
 * What networking of one installation could leave: a veth of one of its containers (`cv` + the
 * first 12 characters of an id it ever created, from its event journal) or on one of its bridges,
 * a network namespace file, a lease or published port on disk, a DNAT rule in one of its tables,
 * a sender filter in one of its bridge tables, a user-defined network (the default network's empty
 * bridge and base tables are not leaks).
 */
export function findNetworkLeaks(o: { dataRoot: string; runRoot: string; bridgePrefix?: string }): string[] {
  const out: string[] = [];
  const ids = new Set<string>();
  const journal = join(o.dataRoot, 'events.ndjson');
  if (existsSync(journal)) {
    for (const line of readFileSync(journal, 'utf8').split('\n')) {
      const id = /"id":"([0-9a-f]{64})"/.exec(line)?.[1];
      if (id) ids.add(id.slice(0, 12));
    }
  }
  const ls = links();
  const bridges = o.bridgePrefix ? ourNames(o.bridgePrefix, ls.filter((l) => l.kind === 'bridge').map((l) => l.ifname)) : [];
  for (const l of ls) {
    const mine = l.ifname.startsWith('cv') && ids.has(l.ifname.slice(2, 14));
    if (mine || (l.master !== undefined && bridges.includes(l.master))) out.push(`veth ${l.ifname}${l.master ? ` (on ${l.master})` : ''}`);
  }
  const netnsDir = join(o.runRoot, 'netns');
  if (existsSync(netnsDir)) for (const f of readdirSync(netnsDir)) out.push(`netns file ${join(netnsDir, f)}`);
  const networks = join(o.dataRoot, 'network');
  if (existsSync(networks)) {
    for (const n of readdirSync(networks)) {
      if (n !== 'bridge') out.push(`user network ${n} (${join(networks, n)})`);
      for (const [file, key] of [['leases.json', 'leases'], ['ports.json', 'ports']] as const) {
        const p = join(networks, n, file);
        if (!existsSync(p)) continue;
        const v = JSON.parse(readFileSync(p, 'utf8')) as Record<string, Record<string, unknown>>;
        for (const id of Object.keys(v[key] ?? {})) out.push(`${file === 'leases.json' ? 'lease' : 'published port'} of ${id.slice(0, 12)} on ${n}`);
      }
    }
  }
  if (o.bridgePrefix) {
    for (const t of ourNames(o.bridgePrefix, nftTables())) {
      const rules = run('nft', ['list', 'chain', 'inet', t, 'ports']).split('\n').filter((l) => l.includes('dnat'));
      for (const r of rules) out.push(`nft rule in inet ${t}: ${r.trim()}`);
    }
    for (const t of ourNames(o.bridgePrefix, nftTables('bridge'))) {
      for (const v of guardedVeths(t)) out.push(`sender filter of ${v} in bridge ${t}`);
    }
  }
  return out;
}

export function describeLeaks(l: Leaks): string | undefined {
  const parts = Object.entries(l)
    .filter(([, v]) => (v as string[]).length > 0)
    .map(([k, v]) => `${k}:\n  ${(v as string[]).join('\n  ')}`);
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** A content hash of a directory tree (names, modes, sizes, link targets, file bytes). */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      h.update(`${p}\0${st.mode}\0${st.size}\0`);
      if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else if (st.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}
