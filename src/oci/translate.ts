import { basename, isAbsolute, join } from 'node:path';
import { ValidationError } from '../errors.js';
import { ALL_CAPABILITIES } from '../security/capabilities.js';
import { MS, parseMountOptions, rootPropagation } from './mount-options.js';
import type { OciIdMapping, OciMount, OciProcess, OciSpec } from './spec.js';

/**
 * config.json → the options of `corral-shim oci-create` (docs/oci.md). Pure: the cgroup files to
 * join, the compiled seccomp program and the fifo come from the caller. What the bundle does not
 * ask for is not done: no mount, device or capability of Corral's own defaults is added, except
 * the devices and /dev links the runtime spec makes every runtime supply.
 */

export interface CgroupMountSource {
  /** v1: each hierarchy's directory name below /sys/fs/cgroup and the container's cgroup in it. */
  v1: { name: string; dir: string }[];
  /** v2: the container's cgroup directory, or null on a v1-only host. */
  v2: string | null;
}

export interface CreateContext {
  bundle: string;
  execFifo: string;
  consoleSocket?: string;
  cgroupProcs: string[];
  cgroupMounts: CgroupMountSource;
  seccompFile?: string;
}

const NS_TYPES: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/** The spec's default devices (config-linux.md "Default Devices"). */
export const DEFAULT_DEVICES = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const DEV_LINKS: [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

const KNOWN_CAPS = new Set(ALL_CAPABILITIES.map((c) => `CAP_${c}`));

export function mapText(maps: readonly OciIdMapping[] | undefined): string | undefined {
  if (!maps || maps.length === 0) return undefined;
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function caps(list: readonly string[] | undefined): string {
  // The shim knows the kernel's capabilities up to CAP_CHECKPOINT_RESTORE; newer names cannot be held here.
  return (list ?? []).filter((c) => KNOWN_CAPS.has(c.toUpperCase())).join(',');
}

/** The process options, shared by create and exec. */
export function processArgs(p: OciProcess, o: { consoleSocket?: string; seccompFile?: string }): string[] {
  const a: string[] = [];
  const user = p.user ?? {};
  a.push('--user', String(user.uid ?? 0), String(user.gid ?? 0));
  for (const g of user.additionalGids ?? []) a.push('--group', String(g));
  const c = p.capabilities ?? {};
  a.push('--cap-bounding', caps(c.bounding), '--cap-effective', caps(c.effective), '--cap-permitted', caps(c.permitted));
  a.push('--cap-inheritable', caps(c.inheritable), '--cap-ambient', caps(c.ambient));
  for (const r of p.rlimits ?? []) {
    const n = RLIMITS[r.type];
    if (n === undefined) throw new ValidationError(`process.rlimits: unknown type ${r.type}`);
    a.push('--rlimit', String(n), String(r.soft), String(r.hard));
  }
  if (p.noNewPrivileges) a.push('--no-new-privs');
  if (p.oomScoreAdj !== undefined) a.push('--oom-score-adj', String(p.oomScoreAdj));
  a.push('--cwd', p.cwd ?? '/');
  for (const e of p.env ?? []) if (e.includes('=')) a.push('--env', e);
  if (p.terminal) {
    a.push('--tty');
    if (o.consoleSocket) a.push('--console-socket', o.consoleSocket);
  }
  if (o.seccompFile) a.push('--seccomp', o.seccompFile);
  return a;
}

function mountArgs(m: OciMount, bundle: string, cg: CgroupMountSource): string[] {
  const o = parseMountOptions(m.options);
  const type = m.type ?? (o.flags & MS.BIND ? 'bind' : 'none');
  let flags = o.flags;
  if (type === 'bind') flags |= MS.BIND;
  const src = m.source ?? type;
  if (type === 'cgroup' || type === 'cgroup2') return cgroupMountArgs(m.destination, flags, cg);
  const source = flags & MS.BIND && !isAbsolute(src) ? join(bundle, src) : src;
  return ['--mount', source, m.destination, type, String(flags & ~MS.REMOUNT), String(o.propagation), flags & MS.BIND ? '' : o.data];
}

/**
 * The container's own cgroups at the mount's destination: on v1 a tmpfs holding a bind of each
 * hierarchy's cgroup of the container (what runc mounts without a cgroup namespace), on v2 a bind
 * of its cgroup directory. Read-only when the bundle says so.
 */
function cgroupMountArgs(dest: string, flags: number, cg: CgroupMountSource): string[] {
  const ro = (flags & MS.RDONLY) !== 0;
  const bindFlags = String(MS.BIND | MS.REC | (flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY)));
  if (cg.v1.length === 0) return cg.v2 ? ['--mount', cg.v2, dest, 'bind', bindFlags, '0', ''] : [];
  const a = ['--mount', 'tmpfs', dest, 'tmpfs', String(flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC)), '0', 'mode=755'];
  for (const h of cg.v1) a.push('--mount', h.dir, join(dest, h.name), 'bind', bindFlags, '0', '');
  if (cg.v2) a.push('--mount', cg.v2, join(dest, 'unified'), 'bind', bindFlags, '0', '');
  if (ro) a.push('--remount-ro', dest);
  return a;
}

export function createArgs(spec: OciSpec, ctx: CreateContext): string[] {
  const linux = spec.linux ?? {};
  const a: string[] = [];
  const nsTypes = new Set<string>();
  for (const ns of linux.namespaces ?? []) {
    const t = NS_TYPES[ns.type];
    if (!t) throw new ValidationError(`linux.namespaces: unknown type ${ns.type}`);
    if (nsTypes.has(t)) throw new ValidationError(`linux.namespaces: ${ns.type} given twice`);
    nsTypes.add(t);
    if (ns.path) a.push('--join', t, ns.path);
    else a.push('--new', t);
  }
  const uidMap = mapText(linux.uidMappings);
  const gidMap = mapText(linux.gidMappings);
  if ((uidMap || gidMap) && !(linux.namespaces ?? []).some((n) => n.type === 'user' && !n.path)) {
    throw new ValidationError('linux.uidMappings/gidMappings need a new user namespace in linux.namespaces');
  }
  if (uidMap) a.push('--uid-map', uidMap);
  if (gidMap) a.push('--gid-map', gidMap);
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!nsTypes.has('uts')) throw new ValidationError('hostname is set but linux.namespaces has no uts namespace');
    a.push('--hostname', spec.hostname);
  }
  if (spec.domainname) a.push('--domainname', spec.domainname);
  for (const f of ctx.cgroupProcs) a.push('--cgroup-procs', f);

  const root = spec.root!;
  a.push('--rootfs', isAbsolute(root.path) ? root.path : join(ctx.bundle, root.path));
  if (root.readonly) a.push('--readonly-root');
  const prop = rootPropagation(linux.rootfsPropagation);
  if (prop) a.push('--root-propagation', String(prop));
  a.push('--exec-fifo', ctx.execFifo);

  let devTmpfs = false;
  for (const m of spec.mounts ?? []) {
    a.push(...mountArgs(m, ctx.bundle, ctx.cgroupMounts));
    if (m.destination === '/dev') devTmpfs = true;
  }
  // Devices: the bundle's, then the default ones it does not list (only where /dev is the bundle's mount).
  const listed = new Set<string>();
  for (const d of linux.devices ?? []) {
    listed.add(d.path);
    a.push('--device', d.path, d.type, String(d.major ?? 0), String(d.minor ?? 0), String(d.fileMode ?? 0o666), String(d.uid ?? 0), String(d.gid ?? 0));
  }
  if (devTmpfs) {
    for (const d of DEFAULT_DEVICES) if (!listed.has(d.path)) a.push('--device', d.path, 'c', String(d.major), String(d.minor), String(0o666), '0', '0');
    for (const [target, link] of DEV_LINKS) a.push('--symlink', target, link);
  }
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) a.push('--sysctl', k, v);
  for (const p of linux.maskedPaths ?? []) a.push('--mask', p);
  for (const p of linux.readonlyPaths ?? []) a.push('--readonly-path', p);
  a.push(...processArgs(spec.process!, { consoleSocket: ctx.consoleSocket, seccompFile: ctx.seccompFile }));
  a.push('--', ...spec.process!.args!);
  return a;
}

/** Hierarchy directory names (cpu, memory, name=systemd → systemd) for a cgroup mount. */
export function hierarchyName(mountpoint: string): string {
  return basename(mountpoint);
}
