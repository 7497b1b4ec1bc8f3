import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { parseCgroupMounts } from '../cgroups/detect.js';
import { CgroupError, ValidationError } from '../errors.js';
import type { OciDeviceRule, OciResources } from './spec.js';

/**
 * The container's cgroups at its cgroupsPath, in every v1 hierarchy (hybrid hosts like this one)
 * or in the one v2 tree; its resources written before its process joins (the shim's C1 writes its
 * pid into each `cgroup.procs` before it unshares). corral-oci owns only the leaf it made.
 */

export interface CgroupSet {
  /** `v1` or `v2`, from the host's mounts. */
  mode: 'v1' | 'v2';
  /** The container's directories: one per v1 hierarchy (plus the hybrid cgroup2 one), or one on v2. */
  dirs: string[];
  /** v1: hierarchy name (cpu, memory, systemd) → directory. */
  v1: { name: string; dir: string }[];
  /** The v2 directory (the hybrid unified one on a v1 host), or null. */
  v2: string | null;
}

function ownCgroup(hierarchy: string): string {
  // /proc/self/cgroup: `4:memory:/a/b`, `0::/a`; v1 named hierarchies are `name=systemd`.
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (path === undefined) continue;
    if (hierarchy === '' ? ctrls === '' : ctrls!.split(',').includes(hierarchy)) return path;
  }
  return '/';
}

/** Where the container's cgroups are, made or not. A relative cgroupsPath is below our own cgroup (as runc). */
export function cgroupSet(cgroupsPath: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupSet {
  if (cgroupsPath.includes(':') && !cgroupsPath.startsWith('/')) {
    throw new ValidationError(`cgroupsPath ${cgroupsPath}: a systemd slice:prefix:name path; corral-oci manages cgroupfs only (--systemd-cgroup is not supported)`);
  }
  if (cgroupsPath.split('/').includes('..')) throw new ValidationError(`cgroupsPath ${cgroupsPath}: must not contain ..`);
  const m = parseCgroupMounts(mountinfo);
  const rel = (h: string): string => (isAbsolute(cgroupsPath) ? cgroupsPath : join(ownCgroup(h), cgroupsPath));
  if (m.mode === 'v2') {
    const dir = join(m.root, rel(''));
    return { mode: 'v2', dirs: [dir], v1: [], v2: dir };
  }
  const v1 = m.v1.map((h) => ({ name: basename(h.mountpoint), dir: join(h.mountpoint, rel(h.controllers[0]!)) }));
  const v2 = m.unified ? join(m.unified, rel('')) : null;
  return { mode: 'v1', dirs: [...v1.map((h) => h.dir), ...(v2 ? [v2] : [])], v1, v2 };
}

function write(dir: string, file: string, value: string): void {
  try {
    writeFileSync(join(dir, file), value);
  } catch (err) {
    throw new CgroupError(`write ${JSON.stringify(value)} to`, join(dir, file), (err as Error).message);
  }
}

function read(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** cpuset.cpus/mems start empty in a new v1 cpuset cgroup: a process cannot join until they are copied down. */
function fillCpuset(dir: string): void {
  const parent = dirname(dir);
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if (read(dir, f) !== '') continue;
    if (read(parent, f) === '') fillCpuset(parent);
    write(dir, f, read(parent, f) ?? '');
  }
}

/** Make every directory (mkdir -p), then write the resources. Returns the `cgroup.procs` files to join. */
export function createCgroups(set: CgroupSet, resources: OciResources | undefined, devicesProgram: (dir: string, rules: string[]) => Promise<void>): Promise<string[]> {
  for (const dir of set.dirs) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new CgroupError('create', dir, (err as Error).message);
    }
  }
  for (const h of set.v1) if (h.name === 'cpuset') fillCpuset(h.dir);
  return applyResources(set, resources ?? {}, devicesProgram, true).then(() => set.dirs.map((d) => join(d, 'cgroup.procs')));
}

const sharesToWeight = (s: number): number => Math.max(1, Math.min(10000, 1 + Math.floor(((s - 2) * 9999) / 262142)));

function deviceRule(r: OciDeviceRule): string {
  const t = r.type ?? 'a';
  const n = (v: number | null | undefined): string => (v === undefined || v === null || v < 0 ? '*' : String(v));
  return t === 'a' ? `a *:* ${r.access ?? 'rwm'}` : `${t} ${n(r.major)}:${n(r.minor)} ${r.access ?? 'rwm'}`;
}

/**
 * The device rules to write: the bundle's, then what every container may use whatever they say
 * (as runc adds them): the spec's default devices, /dev/console, /dev/ptmx and the ptys, and
 * mknod of any node (using one is what the rules decide). Plus the bundle's linux.devices.
 */
export function deviceRules(resources: OciDeviceRule[] | undefined, devices: { type: string; major?: number; minor?: number }[] = []): OciDeviceRule[] {
  if (!resources || resources.length === 0) return [];
  const allow = (type: string, major: number | null, minor: number | null, access = 'rwm'): OciDeviceRule => ({ allow: true, type, major, minor, access });
  return [
    ...resources,
    allow('c', null, null, 'm'),
    allow('b', null, null, 'm'),
    ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2]].map(([ma, mi]) => allow('c', ma!, mi!)),
    allow('c', 136, null),
    ...devices.filter((d) => d.type === 'c' || d.type === 'b' || d.type === 'u').map((d) => allow(d.type === 'b' ? 'b' : 'c', d.major ?? null, d.minor ?? null)),
  ];
}

/** Write resources (create and `update`). Only what is given is written. */
export async function applyResources(set: CgroupSet, r: OciResources, devicesProgram: (dir: string, rules: string[]) => Promise<void>, atCreate: boolean): Promise<void> {
  const v1 = (name: string): string | undefined => set.v1.find((h) => h.name === name)?.dir;
  const mem = r.memory ?? {};
  const cpu = r.cpu ?? {};
  if (set.mode === 'v1') {
    const m = v1('memory');
    if (m) {
      if (mem.limit !== undefined) write(m, 'memory.limit_in_bytes', String(mem.limit));
      if (mem.reservation !== undefined) write(m, 'memory.soft_limit_in_bytes', String(mem.reservation));
      if (mem.swap !== undefined && existsSync(join(m, 'memory.memsw.limit_in_bytes'))) write(m, 'memory.memsw.limit_in_bytes', String(mem.swap));
      if (mem.swappiness !== undefined && mem.swappiness <= 100) write(m, 'memory.swappiness', String(mem.swappiness));
      if (mem.disableOOMKiller) write(m, 'memory.oom_control', '1');
    }
    const c = v1('cpu');
    if (c) {
      if (cpu.shares) write(c, 'cpu.shares', String(cpu.shares));
      if (cpu.period) write(c, 'cpu.cfs_period_us', String(cpu.period));
      if (cpu.quota !== undefined && cpu.quota !== 0) write(c, 'cpu.cfs_quota_us', String(cpu.quota));
    }
    const cs = v1('cpuset');
    if (cs) {
      if (cpu.cpus) write(cs, 'cpuset.cpus', cpu.cpus);
      if (cpu.mems) write(cs, 'cpuset.mems', cpu.mems);
    }
    const p = v1('pids');
    if (p && r.pids?.limit !== undefined) write(p, 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
    const b = v1('blkio');
    if (b && r.blockIO?.weight && existsSync(join(b, 'blkio.weight'))) write(b, 'blkio.weight', String(r.blockIO.weight));
    const d = v1('devices');
    if (d && r.devices && r.devices.length > 0) {
      for (const rule of r.devices) write(d, rule.allow ? 'devices.allow' : 'devices.deny', deviceRule(rule));
    }
    return;
  }
  const dir = set.v2!;
  if (mem.limit !== undefined) write(dir, 'memory.max', mem.limit > 0 ? String(mem.limit) : 'max');
  if (mem.reservation !== undefined) write(dir, 'memory.low', String(mem.reservation));
  if (mem.swap !== undefined && existsSync(join(dir, 'memory.swap.max'))) {
    write(dir, 'memory.swap.max', mem.swap < 0 ? 'max' : String(Math.max(0, mem.swap - (mem.limit ?? 0))));
  }
  if (cpu.shares) write(dir, 'cpu.weight', String(sharesToWeight(cpu.shares)));
  if ((cpu.quota !== undefined && cpu.quota !== 0) || cpu.period) {
    write(dir, 'cpu.max', `${cpu.quota === undefined || cpu.quota < 0 ? 'max' : cpu.quota} ${cpu.period ?? 100000}`);
  }
  if (cpu.cpus) write(dir, 'cpuset.cpus', cpu.cpus);
  if (cpu.mems) write(dir, 'cpuset.mems', cpu.mems);
  if (r.pids?.limit !== undefined) write(dir, 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (k.includes('/') || k.startsWith('.')) throw new ValidationError(`linux.resources.unified: bad key ${k}`);
    write(dir, k, v);
  }
  // v2 has no devices files: an allow-list program (corral-shim devices) after a deny-all.
  if (atCreate && r.devices && r.devices.length > 0) {
    const first = r.devices[0]!;
    if (!first.allow && (first.type ?? 'a') === 'a') {
      await devicesProgram(dir, r.devices.slice(1).filter((d) => d.allow).map(deviceRule));
    }
  }
}

/** `corral-shim devices DIR RULE...` (cgroup v2 device allow-list). */
export function shimDevices(shim: string): (dir: string, rules: string[]) => Promise<void> {
  return (dir, rules) =>
    new Promise((resolve, reject) => {
      execFile(shim, ['devices', dir, ...rules], { encoding: 'utf8' }, (err, _o, stderr) =>
        err ? reject(new CgroupError('attach the device program to', dir, stderr.trim() || err.message)) : resolve(),
      );
    });
}

/** Pids in the container's cgroup (its first directory counts the whole subtree's processes only on v2). */
export function cgroupPids(set: CgroupSet): number[] {
  const dir = set.v1.find((h) => h.name === 'pids' || h.name === 'memory')?.dir ?? set.dirs[0]!;
  const text = read(dir, 'cgroup.procs') ?? '';
  return text.split('\n').filter(Boolean).map(Number);
}

/** Remove the container's directories (after its processes are gone); missing ones are fine. */
export async function removeCgroups(set: CgroupSet): Promise<void> {
  for (const dir of set.dirs) {
    for (let delay = 1; ; delay = Math.min(delay * 2, 100)) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        // EBUSY until the kernel has moved the last exiting task out.
        if (code !== 'EBUSY' || delay >= 100 && (read(dir, 'cgroup.procs') ?? '') !== '') {
          throw new CgroupError('remove', dir, (err as Error).message);
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** Freeze or thaw, and wait for the kernel to report it. */
export async function setFrozen(set: CgroupSet, frozen: boolean): Promise<void> {
  const freezer = set.v1.find((h) => h.name === 'freezer')?.dir;
  const deadline = Date.now() + 10_000;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    let state: string | undefined;
    if (freezer) {
      if (delay === 1) write(freezer, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
      state = read(freezer, 'freezer.state');
      if (state === (frozen ? 'FROZEN' : 'THAWED')) return;
    } else if (set.v2) {
      if (delay === 1) write(set.v2, 'cgroup.freeze', frozen ? '1' : '0');
      state = /frozen (\d)/.exec(read(set.v2, 'cgroup.events') ?? '')?.[1];
      if (state === (frozen ? '1' : '0')) return;
    } else {
      throw new CgroupError('freeze', set.dirs[0] ?? '(none)', 'no freezer hierarchy');
    }
    if (Date.now() > deadline) throw new CgroupError('freeze', freezer ?? set.v2!, `still ${state ?? 'unknown'} after 10 s`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function isFrozen(set: CgroupSet): boolean {
  const freezer = set.v1.find((h) => h.name === 'freezer')?.dir;
  if (freezer) return read(freezer, 'freezer.state') === 'FROZEN';
  if (set.v2 && set.mode === 'v2') return /frozen 1/.test(read(set.v2, 'cgroup.events') ?? '');
  return false;
}

export interface CgroupStats {
  cpu: { usage: { total: number } };
  memory: { usage: { usage: number; limit: number; max: number }; raw: Record<string, number> };
  pids: { current: number; limit: number };
}

function num(v: string | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** The stats `events --stats` prints (runc's shape, trimmed to what is read here). */
export function cgroupStats(set: CgroupSet): CgroupStats {
  const v1 = (name: string): string | undefined => set.v1.find((h) => h.name === name)?.dir;
  if (set.mode === 'v1') {
    const m = v1('memory');
    const c = v1('cpuacct');
    const p = v1('pids');
    return {
      cpu: { usage: { total: num(c && read(c, 'cpuacct.usage')) } },
      memory: { usage: { usage: num(m && read(m, 'memory.usage_in_bytes')), limit: num(m && read(m, 'memory.limit_in_bytes')), max: num(m && read(m, 'memory.max_usage_in_bytes')) }, raw: {} },
      pids: { current: num(p && read(p, 'pids.current')), limit: p && read(p, 'pids.max') !== 'max' ? num(read(p, 'pids.max')) : 0 },
    };
  }
  const d = set.v2!;
  const usec = /usage_usec (\d+)/.exec(read(d, 'cpu.stat') ?? '')?.[1];
  const max = read(d, 'memory.max');
  return {
    cpu: { usage: { total: num(usec) * 1000 } },
    memory: { usage: { usage: num(read(d, 'memory.current')), limit: max === 'max' ? 0 : num(max), max: num(read(d, 'memory.peak')) }, raw: {} },
    pids: { current: num(read(d, 'pids.current')), limit: read(d, 'pids.max') === 'max' ? 0 : num(read(d, 'pids.max')) },
  };
}
