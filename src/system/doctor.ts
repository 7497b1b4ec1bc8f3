import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import { release } from 'node:os';
import { promisify } from 'node:util';
import type { CorralPaths } from '../config.js';
import { detectCgroups } from '../cgroups/detect.js';
import { findProgram } from './which.js';
import { lxcfsCheck } from './lxcfs.js';

/** One finding of `corral doctor`: what was checked, how it went, and what to do about it. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const OVERLAYFS_MAGIC = 0x794c7630;
const TMPFS_MAGIC = 0x01021994;
const run = promisify(execFile);

/** The controllers Corral's limits use, by cgroup version. */
const WANTED_V2 = ['cpu', 'memory', 'pids', 'cpuset', 'io'];
const WANTED_V1 = ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio'];

/** Reads the host as Corral needs it; never changes anything. */
export async function diagnose(paths: CorralPaths, shim: string): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check): void => void checks.push(c);

  add(process.getuid?.() === 0
    ? { name: 'root', status: 'ok', detail: 'running as root' }
    : { name: 'root', status: 'fail', detail: 'not running as root', fix: 'run corral with sudo' });

  add({ name: 'kernel', status: 'ok', detail: `Linux ${release()}` });

  const ns = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'].filter((n) => !existsSync(`/proc/self/ns/${n}`));
  add(ns.length === 0
    ? { name: 'namespaces', status: 'ok', detail: 'mount, uts, ipc, pid, net, cgroup' }
    : { name: 'namespaces', status: 'fail', detail: `missing: ${ns.join(', ')}`, fix: 'use a kernel built with CONFIG_NAMESPACES and these namespace options' });

  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  add(/\toverlay$/m.test(filesystems)
    ? { name: 'overlayfs', status: 'ok', detail: 'overlay is registered' }
    : { name: 'overlayfs', status: 'warn', detail: 'overlay is not registered yet (it may load as a module on first mount)', fix: 'modprobe overlay' });

  try {
    const unshare = await findProgram('unshare');
    const { stdout } = await run(unshare, ['--version']);
    await run(unshare, ['--mount', '--propagation', 'private', 'true']);
    add({ name: 'unshare', status: 'ok', detail: `${stdout.trim()}; a private mount namespace (for pivot_root) works` });
  } catch (err) {
    add({ name: 'unshare', status: 'fail', detail: (err as Error).message.split('\n')[0]!, fix: 'apt-get install util-linux; corral needs CAP_SYS_ADMIN (privileged Docker: --privileged)' });
  }

  add(existsSync(shim)
    ? { name: 'corral-shim', status: 'ok', detail: shim }
    : { name: 'corral-shim', status: 'fail', detail: `${shim} is missing`, fix: 'npm run build (needs gcc and libc6-dev)' });

  try {
    const cg = await detectCgroups(paths.cgroupRoot);
    if (cg.mode === 'v2') {
      const have = cg.unifiedControllers;
      const missing = WANTED_V2.filter((c) => !have.includes(c));
      add({ name: 'cgroups', status: missing.length ? 'warn' : 'ok', detail: `v2 at ${cg.root}; controllers: ${have.join(' ')}${missing.length ? `; missing: ${missing.join(' ')}` : ''}`, ...(missing.length ? { fix: `limits on ${missing.join(', ')} cannot be enforced; enable them in the parent's cgroup.subtree_control (systemd: Delegate=yes)` } : {}) });
    } else {
      const have = cg.v1.flatMap((h) => h.controllers);
      const missing = WANTED_V1.filter((c) => !have.includes(c));
      const mode = cg.unified ? `hybrid (v1 hierarchies; cgroup2 at ${cg.unified} with ${cg.unifiedControllers.join(' ') || 'no controllers'})` : 'legacy v1';
      add({ name: 'cgroups', status: missing.length ? 'warn' : 'ok', detail: `${mode}; v1 controllers used: ${WANTED_V1.filter((c) => have.includes(c)).join(' ')}${missing.length ? `; missing: ${missing.join(' ')}` : ''}`, ...(missing.length ? { fix: `mount the ${missing.join(', ')} hierarchies, or boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2` } : {}) });
    }
  } catch (err) {
    add({ name: 'cgroups', status: 'fail', detail: (err as Error).message, fix: 'mount cgroup2 at /sys/fs/cgroup' });
  }

  add(await dataRootCheck(paths.dataRoot));
  add(await lxcfsCheck(paths));
  return checks;
}

/** overlayfs cannot take an upper/work directory that itself lives on overlayfs. */
export async function dataRootCheck(dataRoot: string): Promise<Check> {
  let dir = dataRoot;
  while (!existsSync(dir) && dir !== '/') dir = dir.replace(/\/[^/]*$/, '') || '/';
  try {
    const st = await statfs(dir);
    if (Number(st.type) === OVERLAYFS_MAGIC) {
      return {
        name: 'data root',
        status: 'fail',
        detail: `${dataRoot} is on overlayfs, which cannot host containers' overlay upper layers`,
        fix: 'put the data root on a real filesystem or a tmpfs (--data-root; in Docker, a volume), as Docker-in-Docker does',
      };
    }
    const free = Number(st.bavail) * Number(st.bsize);
    const kind = Number(st.type) === TMPFS_MAGIC ? 'tmpfs' : `fs type 0x${Number(st.type).toString(16)}`;
    return { name: 'data root', status: 'ok', detail: `${dataRoot} (${kind}, ${(free / 2 ** 30).toFixed(1)} GiB free)` };
  } catch (err) {
    return { name: 'data root', status: 'warn', detail: `cannot statfs ${dir}: ${(err as Error).message}` };
  }
}
