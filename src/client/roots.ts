import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { VersionInfo } from '../api/types.js';
import type { CorralPaths, PathOverrides } from '../config.js';
import { CorralError } from '../errors.js';

/** A root the user set on purpose, and how (for the message when corrald serves another). */
export interface AskedRoot {
  key: 'dataRoot' | 'runRoot' | 'cgroupParent' | 'bridgePrefix';
  value: string;
  /** `--data-root` or `CORRAL_DATA_ROOT`. */
  via: string;
}

const ROOTS: { key: AskedRoot['key']; flag?: string; env: string; what: string }[] = [
  { key: 'dataRoot', flag: '--data-root', env: 'CORRAL_DATA_ROOT', what: 'data root' },
  { key: 'runRoot', flag: '--run-root', env: 'CORRAL_RUN_ROOT', what: 'run root' },
  { key: 'cgroupParent', flag: '--cgroup-parent', env: 'CORRAL_CGROUP_PARENT', what: 'cgroup parent' },
  { key: 'bridgePrefix', env: 'CORRAL_BRIDGE_PREFIX', what: 'bridge prefix' },
];

/**
 * The roots given by flag or CORRAL_* variable, with their resolved values. Defaults are not
 * among them: a CLI told nothing talks to whatever corrald answers on the default socket.
 */
export function askedRoots(paths: CorralPaths, overrides: PathOverrides, env: NodeJS.ProcessEnv): AskedRoot[] {
  const asked: AskedRoot[] = [];
  for (const r of ROOTS) {
    const via = r.flag && overrides[r.key] !== undefined ? r.flag : env[r.env] !== undefined ? r.env : undefined;
    if (via) asked.push({ key: r.key, value: paths[r.key], via });
  }
  return asked;
}

export class WrongDaemonError extends CorralError {
  constructor(message: string, details: Record<string, unknown>) {
    super('conflict', message, details);
  }
}

/**
 * corrald serves one installation. A CLI that reached it through the socket but was asked for
 * other roots would act on the wrong containers (`corral --data-root /x ps` listing the default
 * installation's), so this refuses, naming both values and the ways out. Fields an older corrald
 * does not report are not judged.
 */
export function checkRoots(info: Partial<VersionInfo>, asked: readonly AskedRoot[], socket: string): void {
  const wrong = asked.filter((a) => {
    const served = info[a.key];
    return typeof served === 'string' && !sameRoot(a, served);
  });
  if (wrong.length === 0) return;
  const what = (k: AskedRoot['key']) => ROOTS.find((r) => r.key === k)!.what;
  const diffs = wrong.map((a) => `${what(a.key)} ${info[a.key]}, not ${a.value} (${a.via})`).join('; ');
  const pid = typeof info.pid === 'number' ? ` (pid ${info.pid})` : '';
  throw new WrongDaemonError(
    `the corrald on ${socket}${pid} serves ${diffs}: one corrald serves one installation; for another, give it its own --run-root, or stop that corrald first`,
    { socket, ...Object.fromEntries(wrong.map((a) => [a.key, { asked: a.value, served: info[a.key] }])) },
  );
}

function sameRoot(a: AskedRoot, served: string): boolean {
  if (a.key === 'cgroupParent' || a.key === 'bridgePrefix') return a.value === served;
  // The same directory by another name (a symlink such as /var/run -> /run) is the same root.
  if (resolve(a.value) === resolve(served)) return true;
  const mine = canonical(a.value);
  return mine !== undefined && mine === canonical(served);
}

function canonical(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}
