import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { CorralPaths } from '../config.js';
import { CgroupError } from '../errors.js';
import type { CgroupDriverName, CgroupManager, CgroupManagerOptions } from './manager.js';
import { V1CgroupManager } from './v1/manager.js';
import { V2CgroupManager } from './v2/manager.js';
import { cgroupError, readCgroupFile } from './write.js';

/**
 * One mounted v1 hierarchy: its mount point and the controllers bound to it (co-mounts share one);
 * a named hierarchy without controllers (systemd's) has its `name=` option instead.
 */
export interface V1Hierarchy {
  mountpoint: string;
  controllers: string[];
}

/** What is mounted at a cgroup root, read from mountinfo. */
export interface CgroupMounts {
  /** `v2` when cgroup2 is mounted at the root itself; `v1` for legacy and hybrid hosts. */
  mode: CgroupDriverName;
  root: string;
  /** v1 hierarchies mounted directly below the root, named ones included (none on a pure v2 host). */
  v1: V1Hierarchy[];
  /** The cgroup2 mount: the root on v2, `<root>/unified` on a hybrid host, null on legacy v1. */
  unified: string | null;
}

export interface CgroupDetection extends CgroupMounts {
  /** Controllers listed in the cgroup2 mount's cgroup.controllers (empty when there is none). */
  unifiedControllers: string[];
}

/** Controllers a v1 `cgroup` mount can carry; its other super options (rw, name=systemd, xattr) are not. */
const V1_CONTROLLERS = new Set([
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc',
]);

interface MountEntry {
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

/**
 * Pure: which cgroup driver fits `root`, from /proc/self/mountinfo text (statfs magic numbers are
 * out of Node's reach). Later lines win for a mount point, as overmounts do.
 */
export function parseCgroupMounts(mountinfo: string, root = '/sys/fs/cgroup'): CgroupMounts {
  const base = normalize(root).replace(/(.)\/+$/, '$1');
  const byPoint = new Map<string, MountEntry>();
  for (const line of mountinfo.split('\n')) {
    const entry = parseLine(line);
    if (entry) byPoint.set(entry.mountpoint, entry);
  }
  const atRoot = byPoint.get(base);
  if (atRoot?.fstype === 'cgroup2') return { mode: 'v2', root: base, v1: [], unified: base };

  const v1: V1Hierarchy[] = [];
  let unified: string | null = null;
  for (const m of byPoint.values()) {
    if (dirname(m.mountpoint) !== base) continue;
    if (m.fstype === 'cgroup2') unified = m.mountpoint;
    if (m.fstype !== 'cgroup') continue;
    const controllers = m.superOptions.filter((o) => V1_CONTROLLERS.has(o));
    const named = m.superOptions.filter((o) => o.startsWith('name='));
    if (controllers.length > 0 || named.length > 0) v1.push({ mountpoint: m.mountpoint, controllers: controllers.length > 0 ? controllers : named });
  }
  if (!v1.some((h) => h.controllers.some((c) => V1_CONTROLLERS.has(c)))) {
    throw new CgroupError('detect cgroup mode at', base, 'no cgroup2 mount there and no cgroup v1 controller mounted below it');
  }
  v1.sort((a, b) => a.mountpoint.localeCompare(b.mountpoint));
  return { mode: 'v1', root: base, v1, unified };
}

/** `36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory` */
function parseLine(line: string): MountEntry | undefined {
  const fields = line.trim().split(' ');
  const sep = fields.indexOf('-', 6);
  const mountpoint = fields[4];
  const fstype = fields[sep + 1];
  if (sep < 0 || mountpoint === undefined || fstype === undefined) return undefined;
  return {
    mountpoint: normalize(unescapeOctal(mountpoint)),
    fstype,
    superOptions: (fields[sep + 3] ?? '').split(','),
  };
}

/** mountinfo escapes space, tab, newline and backslash as `\040` and the like. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface DetectOptions {
  /** mountinfo text to use instead of reading /proc/self/mountinfo (tests, fake roots). */
  mountinfo?: string;
}

/** Reads mountinfo and, where there is a cgroup2 mount, its controllers (hybrid hosts report them too). */
export async function detectCgroups(root: string, opts: DetectOptions = {}): Promise<CgroupDetection> {
  let text = opts.mountinfo;
  if (text === undefined) {
    try {
      text = await readFile('/proc/self/mountinfo', 'utf8');
    } catch (err) {
      throw cgroupError('read', '/proc/self/mountinfo', err);
    }
  }
  const mounts = parseCgroupMounts(text, root);
  const list = mounts.unified ? await readCgroupFile(join(mounts.unified, 'cgroup.controllers')) : undefined;
  return { ...mounts, unifiedControllers: list ? list.split(/\s+/).filter(Boolean) : [] };
}

/** The driver that fits this host's cgroup root. */
export async function createCgroupManager(
  paths: CorralPaths,
  opts: CgroupManagerOptions & DetectOptions = {},
): Promise<CgroupManager> {
  const { mountinfo, ...options } = opts;
  const detection = await detectCgroups(paths.cgroupRoot, mountinfo === undefined ? {} : { mountinfo });
  const parent = paths.cgroupParent;
  return detection.mode === 'v2'
    ? new V2CgroupManager({ ...options, root: detection.root, parent, rootControllers: detection.unifiedControllers })
    : new V1CgroupManager({ ...options, hierarchies: detection.v1, parent, unified: detection.unified, unifiedControllers: detection.unifiedControllers });
}
