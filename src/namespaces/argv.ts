import type { ContainerConfig, UsernsConfig } from '../api/types.js';
import { logPolicy, type LogPolicy } from './log-policy.js';
import { MASKED_PATHS, READONLY_PATHS } from '../security/masked-paths.js';
import { seccompFilterFile } from '../security/seccomp.js';

/**
 * Pure argv builders for the process chain of docs/shim.md:
 *   corral-shim monitor … -- unshare … -- corral-shim init … -- PROGRAM ARGS           (--userns host)
 *   corral-shim monitor --uid-map … -- [nsenter --net=… --] corral-shim init --userns --unshare … -- PROGRAM ARGS
 * Nothing here touches the system, so every flag is unit-tested.
 */

/** The namespaces a container gets; `--net` is left out when a prepared or the host's network namespace is used. */
export const CONTAINER_NAMESPACES = ['--mount', '--uts', '--ipc', '--net', '--cgroup', '--pid'] as const;

export interface MonitorOptions {
  shim: string;
  id: string;
  stateDir: string;
  logFile: string;
  socket: string;
  exitNotify: string;
  cgroupProcs: readonly string[];
  tty: boolean;
  stdin: boolean;
  waitAttach: boolean;
  /** The log's cap; the installation's (`logPolicy()`) when not given. */
  logPolicy?: LogPolicy;
  /** A private user namespace: the maps the monitor writes when the init stage asks (IDMAP_REQUEST). */
  userns?: UsernsConfig;
}

/** One map line: container ids 0..size-1 are host ids base..base+size-1. */
export function idMap(base: number, size: number): string {
  return `0 ${base} ${size}`;
}

export function monitorArgs(o: MonitorOptions): string[] {
  const log = o.logPolicy ?? logPolicy();
  const args = ['monitor', '--id', o.id, '--state-dir', o.stateDir, '--log', o.logFile, '--log-max-size', String(log.maxSize), '--log-max-files', String(log.maxFiles)];
  args.push('--socket', o.socket, '--exit-notify', o.exitNotify);
  if (o.userns?.mode === 'private') args.push('--uid-map', idMap(o.userns.uidBase, o.userns.size), '--gid-map', idMap(o.userns.gidBase, o.userns.size));
  for (const f of o.cgroupProcs) args.push('--cgroup-procs', f);
  if (o.tty) args.push('--tty');
  if (o.stdin) args.push('--stdin');
  if (o.waitAttach) args.push('--wait-attach');
  return args;
}

/** `net: false` keeps the caller's network namespace (`--network host`). */
export function unshareArgs(unshare = 'unshare', o: { net?: boolean } = {}): string[] {
  const ns = o.net === false ? CONTAINER_NAMESPACES.filter((n) => n !== '--net') : CONTAINER_NAMESPACES;
  return [unshare, ...ns, '--propagation', 'private', '--'];
}

export interface RootfsLayout {
  lower: readonly string[];
  upper: string;
  work: string;
  mountpoint: string;
}

/** Extra files bound into the container (hostname, hosts, resolv.conf, LXCFS files), host path → container path. */
export interface EtcBind {
  source: string;
  target: string;
  readOnly?: boolean;
}

/** LXCFS files bound over the container's own (`<mountpoint>/proc/meminfo` → `/proc/meminfo`), read-only. */
export function lxcfsBinds(mountpoint: string, files: readonly string[]): EtcBind[] {
  return files.map((f) => ({ source: `${mountpoint}${f}`, target: f, readOnly: true }));
}

/** `corral-shim rebind`: replace the binds at each target inside a running container (docs/shim.md). */
export function rebindArgs(o: { pid: number; pidStartTime: number; binds: readonly EtcBind[] }): string[] {
  const args = ['rebind', '--pid', String(o.pid), '--pid-start', String(o.pidStartTime)];
  for (const b of o.binds) args.push('--bind', b.source, b.target);
  return args;
}

/** Process settings shared by `init` and `exec`: who runs, with what, where. */
export function processArgs(p: { user: string; capabilities: readonly string[]; cwd: string; env: readonly string[]; tty: boolean; oomScoreAdj?: number | undefined; seccomp?: string | undefined }): string[] {
  const args = ['--user', p.user, '--cwd', p.cwd];
  if (p.oomScoreAdj !== undefined) args.push('--oom-score-adj', String(p.oomScoreAdj));
  // The resolved filter (src/security/seccomp.ts), loaded right before exec.
  if (p.seccomp !== undefined) args.push('--seccomp', p.seccomp);
  for (const c of p.capabilities) args.push('--cap', `CAP_${c}`);
  for (const e of p.env) args.push('--env', e);
  if (p.tty) args.push('--tty');
  return args;
}

/** `unshare`'s flags as the init stage's `--unshare` names. */
const NS_NAMES: Record<string, string> = { '--mount': 'mnt', '--uts': 'uts', '--ipc': 'ipc', '--net': 'net', '--cgroup': 'cgroup', '--pid': 'pid' };

/**
 * With a private user namespace the init stage makes every namespace itself, after the user one
 * (so they belong to it): `unshare … --` leaves the chain and its namespaces become `--unshare`.
 * What comes before it stays (`nsenter --net=…` joins the prepared network namespace while still
 * host root: joining one that belongs to the host needs the host's CAP_SYS_ADMIN).
 */
export function usernsChain(namespaces: readonly string[]): { before: string[]; unshare: string } {
  const first = namespaces.findIndex((a, i) => i > 0 && a in NS_NAMES);
  if (first < 0) throw new Error(`no unshare namespaces in ${namespaces.join(' ')}`);
  const names: string[] = [];
  for (const a of namespaces.slice(first)) {
    if (a === '--') break;
    if (a in NS_NAMES) names.push(NS_NAMES[a]!);
  }
  return { before: namespaces.slice(0, first - 1), unshare: names.join(',') };
}

export function initArgs(c: ContainerConfig, rootfs: RootfsLayout, etc: readonly EtcBind[], seccomp?: string): string[] {
  const args = ['init', '--rootfs', rootfs.mountpoint];
  for (const l of rootfs.lower) args.push('--lower', l);
  args.push('--upper', rootfs.upper, '--work', rootfs.work, '--hostname', c.hostname);
  const own = c.userns.mode === 'private';
  // Corral's own files (hosts, resolv.conf) stay writable by container root, as without a user
  // namespace; read-only binds (LXCFS' files, a FUSE mount) are bound as they are.
  for (const b of etc) args.push('--bind', b.source, b.target, b.readOnly ? 'ro' : own ? 'rw,idmap' : 'rw');
  for (const v of c.volumes) args.push('--bind', v.source, v.target, (v.readOnly ? 'ro' : 'rw') + (v.idmap ? ',idmap' : ''));
  for (const m of MASKED_PATHS) args.push('--mask', m);
  for (const r of READONLY_PATHS) args.push('--readonly-path', r);
  if (c.readOnly) args.push('--read-only');
  if (c.init) args.push('--init');
  // A system container: /run, /run/lock, /tmp and its own cgroup tree (docs/shim.md, step 5b).
  if (c.boot) args.push('--boot');
  args.push(...processArgs({ user: c.user, capabilities: c.capabilities, cwd: c.workdir, env: c.env, tty: c.tty, oomScoreAdj: c.oomScoreAdj ?? undefined, seccomp }));
  return args;
}

/**
 * The whole chain for starting a container. `namespaces` replaces `unshareArgs(unshare)` when the
 * network namespace is prepared beforehand (`unshareInNetnsArgs` of src/network/argv.ts) or shared.
 */
export function startArgv(o: MonitorOptions, c: ContainerConfig, rootfs: RootfsLayout, etc: readonly EtcBind[], unshare = 'unshare', namespaces?: readonly string[]): string[] {
  const chain = namespaces ?? unshareArgs(unshare);
  if (c.userns.mode !== 'private') return [...monitorArgs(o), '--', ...chain, o.shim, ...initArgs(c, rootfs, etc, seccompFilterFile(o.stateDir, c)), '--', ...c.command];
  const { before, unshare: list } = usernsChain(chain);
  const [stage, ...rest] = initArgs(c, rootfs, etc, seccompFilterFile(o.stateDir, c));
  return [...monitorArgs({ ...o, userns: c.userns }), '--', ...before, o.shim, stage!, '--userns', '--unshare', list, ...rest, '--', ...c.command];
}

export interface ExecOptions {
  shim: string;
  pid: number;
  pidStartTime: number;
  cgroupProcs: readonly string[];
  user: string;
  capabilities: readonly string[];
  cwd: string;
  env: readonly string[];
  tty: boolean;
  stdin: boolean;
  oomScoreAdj?: number | undefined;
  /** The container's seccomp filter file (seccompFilterFile), as PID 1 got it. */
  seccomp?: string | undefined;
  command: readonly string[];
}

/** `exec`: a foreground monitor speaking frames on its stdio, running the shim's exec stage. */
export function execArgv(o: ExecOptions): string[] {
  const monitor = ['monitor', '--no-daemon', '--stdio-attach'];
  for (const f of o.cgroupProcs) monitor.push('--cgroup-procs', f);
  // The exec's pty comes from the container's own devpts, so `tty` inside names it.
  if (o.tty) monitor.push('--tty', '--pty-root', `/proc/${o.pid}/root`);
  if (o.stdin) monitor.push('--stdin');
  return [
    ...monitor,
    '--',
    o.shim,
    'exec',
    '--pid',
    String(o.pid),
    '--pid-start',
    String(o.pidStartTime),
    ...processArgs({ user: o.user, capabilities: o.capabilities, cwd: o.cwd, env: o.env, tty: o.tty, oomScoreAdj: o.oomScoreAdj, seccomp: o.seccomp }),
    '--',
    ...o.command,
  ];
}
