import { join, resolve } from 'node:path';
import { ValidationError } from './errors.js';

/**
 * Where one Corral installation lives. Every root is settable (like Docker's --data-root) so tests
 * and several installations never touch each other's containers.
 */
export interface CorralPaths {
  /** Persistent state: templates, containers (config, overlay upper/work, logs). */
  dataRoot: string;
  /** Runtime state: API socket, pid file, exit notifications, attach sockets. */
  runRoot: string;
  /** Name of Corral's cgroup subtree below each hierarchy's root (v1) or the unified root (v2). */
  cgroupParent: string;
  /** Where the cgroup hierarchies are mounted. */
  cgroupRoot: string;
  /**
   * Names of this installation's host network objects: bridges and nftables tables are
   * `<prefix><n>` (`corral0` is the default network's), so installations never share one.
   */
  bridgePrefix: string;
}

export const DEFAULT_PATHS: CorralPaths = {
  dataRoot: '/var/lib/corral',
  runRoot: '/run/corral',
  cgroupParent: 'corral',
  cgroupRoot: '/sys/fs/cgroup',
  bridgePrefix: 'corral',
};

export interface PathOverrides {
  dataRoot?: string | undefined;
  runRoot?: string | undefined;
  cgroupParent?: string | undefined;
  bridgePrefix?: string | undefined;
}

/** Flags win over CORRAL_* environment variables, which win over the defaults. */
export function resolvePaths(overrides: PathOverrides = {}, env: NodeJS.ProcessEnv = process.env): CorralPaths {
  return {
    dataRoot: resolve(overrides.dataRoot ?? env.CORRAL_DATA_ROOT ?? DEFAULT_PATHS.dataRoot),
    runRoot: resolve(overrides.runRoot ?? env.CORRAL_RUN_ROOT ?? DEFAULT_PATHS.runRoot),
    cgroupParent: (overrides.cgroupParent ?? env.CORRAL_CGROUP_PARENT ?? DEFAULT_PATHS.cgroupParent).replace(/^\/+|\/+$/g, ''),
    cgroupRoot: env.CORRAL_CGROUP_ROOT ?? DEFAULT_PATHS.cgroupRoot,
    bridgePrefix: checkBridgePrefix(overrides.bridgePrefix ?? env.CORRAL_BRIDGE_PREFIX ?? DEFAULT_PATHS.bridgePrefix),
  };
}

/**
 * A bridge name is `<prefix><n>` (at most 15 characters) and doubles as the nftables table's
 * name: lowercase letters and digits, starting and ending with a letter, at most 10 characters.
 */
export function checkBridgePrefix(p: string): string {
  if (!/^[a-z]([a-z0-9]{0,8}[a-z])?$/.test(p)) {
    throw new ValidationError(`invalid bridge prefix ${JSON.stringify(p)}: use 1-10 lowercase letters and digits, starting and ending with a letter (e.g. corral)`);
  }
  return p;
}

export const socketPath = (p: CorralPaths): string => join(p.runRoot, 'corrald.sock');
export const pidFilePath = (p: CorralPaths): string => join(p.runRoot, 'corrald.pid');
export const containersDir = (p: CorralPaths): string => join(p.dataRoot, 'containers');
export const containerDir = (p: CorralPaths, id: string): string => join(p.dataRoot, 'containers', id);
export const templatesDir = (p: CorralPaths): string => join(p.dataRoot, 'templates');
/** Compiled seccomp programs by the sha256 of their flat profile (src/security/seccomp.ts). */
export const seccompCacheDir = (p: CorralPaths): string => join(p.dataRoot, 'seccomp');
export const exitsDir = (p: CorralPaths): string => join(p.runRoot, 'exits');
/** Unix socket paths are limited to 108 bytes: keep attach sockets short. */
export const attachSocketPath = (p: CorralPaths, id: string): string => join(p.runRoot, 'a', `${id.slice(0, 12)}.sock`);
/**
 * corrald's log: /var/log/corral/corrald.log for the default installation (it must outlive a
 * reboot); an installation with its own run root keeps its log there (tests, side-by-side setups).
 */
export const daemonLogPath = (p: CorralPaths): string =>
  process.env.CORRAL_LOG_FILE ?? (p.runRoot === DEFAULT_PATHS.runRoot ? '/var/log/corral/corrald.log' : join(p.runRoot, 'corrald.log'));
