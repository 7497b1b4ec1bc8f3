import { delegateDirs } from '../delegate.js';
import { dirname, join } from 'node:path';
import { CgroupError } from '../../errors.js';
import type { V1Hierarchy } from '../detect.js';
import { applyPlaced, collectStats, type Placed } from '../apply.js';
import type { ControllerModule } from '../controller.js';
import { DEFAULT_DEVICE_RULES } from '../devices.js';
import { signalCgroup } from '../kill.js';
import type { AppliedSetting, CgroupStats, Limits } from '../limits.js';
import type { ApplyOptions, CgroupControllers, CgroupManager, CgroupManagerOptions } from '../manager.js';
import { removeCgroupDir, removeEmptyCgroupDir } from '../remove.js';
import { hasFile } from '../stat.js';
import { PAYLOAD, checkCgroupName, childCgroups, collectPids, makeCgroupDir, parentComponents } from '../tree.js';
import * as blkio from './blkio.js';
import * as cpu from './cpu.js';
import * as cpuset from './cpuset.js';
import * as freezer from './freezer.js';
import { cloneCpusetToChildren, fillCpuset } from './cpuset.js';
import { applyDevices } from './devices.js';
import * as memory from './memory.js';
import { ensureMemoryHierarchy } from './memory.js';
import * as pids from './pids.js';

/** How long a freeze may take before it is undone (a task in uninterruptible sleep holds it up). */
const FREEZE_TIMEOUT_MS = 10_000;

/** The controller files, in the order apply() runs them. */
const MODULES: readonly ControllerModule<unknown>[] = [cpuset, cpu, memory, pids, blkio];

/** The v1 controllers Corral sets limits with, in the order their paths are listed. */
export const V1_USED_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio'] as const;

export interface V1ManagerOptions extends CgroupManagerOptions {
  /** Mounted hierarchies (from detection), named ones (name=systemd) included: a container is in every one. */
  hierarchies: readonly V1Hierarchy[];
  /** Corral's subtree below each hierarchy's root, e.g. `corral`. */
  parent: string;
  /** Hybrid hosts: what the cgroup2 mount offers, for reporting only. */
  unifiedControllers?: string[];
  /** Hybrid hosts: where cgroup2 is mounted (`/sys/fs/cgroup/unified`); the container is there too. */
  unified?: string | null;
}

/**
 * cgroup v1 driver: the container's cgroup is `<hierarchy>/<parent>/<id>` in EVERY mounted
 * hierarchy (devices, freezer, name=systemd and the hybrid cgroup2 mount too, not only those with
 * limits), so the cgroup namespace made after joining roots each at the container's own cgroup and
 * a nested mount of any of them shows nothing of the host's. Limits are written on that cgroup;
 * the processes live in its child `payload`. Co-mounted controllers such as `cpu,cpuacct` share
 * one directory. It never writes outside `<hierarchy>/<parent>`.
 */
export class V1CgroupManager implements CgroupManager {
  readonly driver = 'v1' as const;
  /** Every hierarchy the container is put in: v1 ones with limit controllers first, then the rest. */
  private readonly hierarchies: V1Hierarchy[];
  private readonly parent: string[];
  private readonly available: string[];
  private readonly missing: string[];
  private readonly log: (message: string) => void;

  constructor(private readonly opts: V1ManagerOptions) {
    this.parent = parentComponents(opts.parent);
    const rank = (h: V1Hierarchy) => {
      const i = V1_USED_CONTROLLERS.findIndex((c) => h.controllers.includes(c));
      return i < 0 ? V1_USED_CONTROLLERS.length : i;
    };
    const sorted = [...opts.hierarchies].sort((a, b) => rank(a) - rank(b) || a.mountpoint.localeCompare(b.mountpoint));
    if (!sorted.some((h) => rank(h) < V1_USED_CONTROLLERS.length)) {
      // Without a cgroup Corral could neither limit, list nor kill a container's processes.
      const root = opts.hierarchies[0]?.mountpoint.replace(/\/[^/]*$/, '') ?? '(no v1 hierarchy)';
      throw new CgroupError('use', root, `none of the v1 controllers ${V1_USED_CONTROLLERS.join(', ')} is mounted`);
    }
    // The hybrid cgroup2 mount carries no v1 controller; the container joins it all the same.
    this.hierarchies = opts.unified ? [...sorted, { mountpoint: opts.unified, controllers: [] }] : sorted;
    const mounted = new Set(this.hierarchies.flatMap((h) => h.controllers));
    this.available = V1_USED_CONTROLLERS.filter((c) => mounted.has(c));
    this.missing = V1_USED_CONTROLLERS.filter((c) => !mounted.has(c));
    this.log = opts.log ?? ((m) => console.warn(`corral: ${m}`));
  }

  async ensureParent(): Promise<void> {
    for (const h of this.hierarchies) {
      let dir = h.mountpoint;
      for (const part of this.parent) {
        const up = dir;
        dir = join(dir, part);
        await makeCgroupDir(dir);
        if (h.controllers.includes('cpuset')) await fillCpuset(dir, up);
      }
      if (h.controllers.includes('cpuset')) await cloneCpusetToChildren(dir);
      if (h.controllers.includes('memory')) await ensureMemoryHierarchy(dir, this.log);
    }
  }

  async create(id: string): Promise<AppliedSetting[]> {
    checkCgroupName(id);
    // Start is a hot path: every hierarchy at once; the parent is made only when it is missing.
    const one = async (h: V1Hierarchy): Promise<AppliedSetting[]> => {
      const dir = join(this.parentDir(h), id);
      const made = await makeCgroupDir(dir);
      // A fresh child got cpus/mems from cgroup.clone_children; an old one may predate it.
      if (h.controllers.includes('cpuset') && !made) await fillCpuset(dir, this.parentDir(h));
      // The rules go on before the processes' child exists, which copies them at mkdir.
      const devices = h.controllers.includes('devices') ? await applyDevices(dir, DEFAULT_DEVICE_RULES) : [];
      const child = join(dir, PAYLOAD);
      const childMade = await makeCgroupDir(child);
      if (h.controllers.includes('cpuset') && !childMade) await fillCpuset(child, dir);
      return devices;
    };
    try {
      return (await Promise.all(this.hierarchies.map(one))).flat();
    } catch (err) {
      if ((err as { details?: { errno?: string } }).details?.errno !== 'ENOENT' && !String(err).includes('ENOENT')) throw err;
      await this.ensureParent();
      return (await Promise.all(this.hierarchies.map(one))).flat();
    }
  }

  paths(id: string): string[] {
    checkCgroupName(id);
    return this.hierarchies.map((h) => join(this.parentDir(h), id));
  }

  processPaths(id: string): string[] {
    return this.paths(id).map((p) => join(p, PAYLOAD));
  }

  procsFiles(id: string): string[] {
    return this.processPaths(id).map((p) => join(p, 'cgroup.procs'));
  }

  async delegate(id: string, uid: number, gid: number): Promise<string[]> {
    // Only the hierarchies an init manages; v1 controllers' cgroups stay Corral's.
    const dirs = this.hierarchies
      .filter((h) => h.controllers.length === 0 || h.controllers.includes('name=systemd'))
      .map((h) => join(this.parentDir(h), id, PAYLOAD));
    await delegateDirs(dirs, uid, gid);
    return dirs;
  }

  pids(id: string): Promise<number[]> {
    return collectPids(this.paths(id));
  }

  kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return signalCgroup(this.paths(id), signal, this.opts);
  }

  /** All hierarchies at once, so tasks still exiting cost one wait, not one per hierarchy. */
  async remove(id: string): Promise<void> {
    const one = async (dir: string): Promise<void> => {
      await removeCgroupDir(join(dir, PAYLOAD), this.opts);
      await removeCgroupDir(dir, this.opts);
    };
    const results = await Promise.allSettled(this.paths(id).map(one));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for (const h of this.hierarchies) for (const id of await childCgroups(this.parentDir(h))) ids.add(id);
    return [...ids].sort();
  }

  controllers(): CgroupControllers {
    const unified = this.opts.unifiedControllers ?? [];
    return { available: [...this.available], missing: [...this.missing], ...(unified.length ? { unifiedOnly: [...unified] } : {}) };
  }

  /** Removes only the last component of the parent (`b` of `a/b`), and only when it is empty. */
  async removeParent(): Promise<void> {
    const left = await this.list();
    const first = this.hierarchies[0];
    if (left.length > 0 && first) {
      throw new CgroupError('remove', this.parentDir(first), `still holds container cgroups: ${left.join(' ')}`);
    }
    for (const h of this.hierarchies) await removeEmptyCgroupDir(this.parentDir(h), this.opts.rmdir);
  }

  async apply(id: string, limits: Limits, opts: ApplyOptions = {}): Promise<AppliedSetting[]> {
    checkCgroupName(id);
    const placed: Placed[] = MODULES.map((mod) => {
      const dir = this.dirOf(mod.CONTROLLER, id);
      if (dir) return { mod, dir };
      return { mod, dir: undefined, where: join(this.cgroupRoot(), mod.CONTROLLER), missing: 'no cgroup v1 hierarchy carries it on this host (not mounted)' };
    });
    return applyPlaced(placed, limits, opts, this.log);
  }

  async stats(id: string): Promise<CgroupStats> {
    const first = this.paths(id)[0]!;
    if (!(await hasFile(first))) throw new CgroupError('read stats of', first, 'no such cgroup (create the container first)');
    const cpuacct = this.dirOf(cpu.STATS_CONTROLLER, id);
    const mem = this.dirOf('memory', id);
    const pid = this.dirOf('pids', id);
    const blk = this.dirOf('blkio', id);
    return collectStats({
      ...(cpuacct ? { cpu: () => cpu.stats(cpuacct) } : {}),
      ...(mem ? { memory: () => memory.stats(mem) } : {}),
      ...(pid ? { pids: () => pids.stats(pid) } : {}),
      ...(blk ? { io: () => blkio.stats(blk) } : {}),
    });
  }

  async oomKills(id: string): Promise<number> {
    checkCgroupName(id);
    const dir = this.dirOf('memory', id);
    return dir ? memory.oomKills(dir) : 0;
  }

  freeze(id: string): Promise<void> {
    return freezer.freeze(this.freezerDir(id), this.opts.freezeTimeoutMs ?? FREEZE_TIMEOUT_MS);
  }

  thaw(id: string): Promise<void> {
    return freezer.thaw(this.freezerDir(id), this.opts.freezeTimeoutMs ?? FREEZE_TIMEOUT_MS);
  }

  async frozen(id: string): Promise<boolean> {
    checkCgroupName(id);
    const dir = this.dirOf(freezer.CONTROLLER, id);
    return dir ? freezer.frozen(dir) : false;
  }

  private freezerDir(id: string): string {
    checkCgroupName(id);
    const dir = this.dirOf(freezer.CONTROLLER, id);
    if (!dir) throw new CgroupError('pause', join(this.cgroupRoot(), freezer.CONTROLLER), 'no cgroup v1 freezer hierarchy is mounted on this host');
    return dir;
  }

  /** Where the hierarchies are mounted (`/sys/fs/cgroup`). */
  private cgroupRoot(): string {
    return dirname(this.hierarchies[0]!.mountpoint);
  }

  /** The container's directory in the hierarchy carrying `controller`, if one is mounted. */
  private dirOf(controller: string, id: string): string | undefined {
    const h = this.hierarchies.find((x) => x.controllers.includes(controller));
    return h ? join(this.parentDir(h), id) : undefined;
  }

  private parentDir(h: V1Hierarchy): string {
    return join(h.mountpoint, ...this.parent);
  }
}
