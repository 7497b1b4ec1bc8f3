import type { ContainerConfig } from '../api/types.js';
import { logPolicy, type LogPolicy } from './log-policy.js';
import { MASKED_PATHS, READONLY_PATHS } from '../security/masked-paths.js';

/**
 * Pure argv builders for the process chain of docs/shim.md:
 *   corral-shim monitor … -- unshare … -- corral-shim init … -- PROGRAM ARGS
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
}

export function monitorArgs(o: MonitorOptions): string[] {
  const log = o.logPolicy ?? logPolicy();
  const args = ['monitor', '--id', o.id, '--state-dir', o.stateDir, '--log', o.logFile, '--log-max-size', String(log.maxSize), '--log-max-files', String(log.maxFiles)];
  args.push('--socket', o.socket, '--exit-notify', o.exitNotify);
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
export function processArgs(p: { user: string; capabilities: readonly string[]; cwd: string; env: readonly string[]; tty: boolean; oomScoreAdj?: number | undefined }): string[] {
  const args = ['--user', p.user, '--cwd', p.cwd];
  if (p.oomScoreAdj !== undefined) args.push('--oom-score-adj', String(p.oomScoreAdj));
  for (const c of p.capabilities) args.push('--cap', `CAP_${c}`);
  for (const e of p.env) args.push('--env', e);
  if (p.tty) args.push('--tty');
  return args;
}

export function initArgs(c: ContainerConfig, rootfs: RootfsLayout, etc: readonly EtcBind[]): string[] {
  const args = ['init', '--rootfs', rootfs.mountpoint];
  for (const l of rootfs.lower) args.push('--lower', l);
  args.push('--upper', rootfs.upper, '--work', rootfs.work, '--hostname', c.hostname);
  for (const b of etc) args.push('--bind', b.source, b.target, b.readOnly ? 'ro' : 'rw');
  for (const v of c.volumes) args.push('--bind', v.source, v.target, v.readOnly ? 'ro' : 'rw');
  for (const m of MASKED_PATHS) args.push('--mask', m);
  for (const r of READONLY_PATHS) args.push('--readonly-path', r);
  if (c.readOnly) args.push('--read-only');
  if (c.init) args.push('--init');
  args.push(...processArgs({ user: c.user, capabilities: c.capabilities, cwd: c.workdir, env: c.env, tty: c.tty, oomScoreAdj: c.oomScoreAdj ?? undefined }));
  return args;
}

/**
 * The whole chain for starting a container. `namespaces` replaces `unshareArgs(unshare)` when the
 * network namespace is prepared beforehand (`unshareInNetnsArgs` of src/network/argv.ts) or shared.
 */
export function startArgv(o: MonitorOptions, c: ContainerConfig, rootfs: RootfsLayout, etc: readonly EtcBind[], unshare = 'unshare', namespaces?: readonly string[]): string[] {
  return [...monitorArgs(o), '--', ...(namespaces ?? unshareArgs(unshare)), o.shim, ...initArgs(c, rootfs, etc), '--', ...c.command];
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
    ...processArgs({ user: o.user, capabilities: o.capabilities, cwd: o.cwd, env: o.env, tty: o.tty, oomScoreAdj: o.oomScoreAdj }),
    '--',
    ...o.command,
  ];
}
