import { delegateDirs } from '../delegate.js';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { CgroupError } from '../../errors.js';
import { applyPlaced, collectStats } from '../apply.js';
import type { ControllerModule } from '../controller.js';
import { signalCgroup } from '../kill.js';
import type { AppliedSetting, CgroupStats, Limits } from '../limits.js';
import type { ApplyOptions, CgroupControllers, CgroupManager, CgroupManagerOptions } from '../manager.js';
import { removeCgroupDir, removeEmptyCgroupDir } from '../remove.js';
import { DEFAULT_DEVICE_RULES, ruleText, rulesRequested } from '../devices.js';
import { PAYLOAD, checkCgroupName, childCgroups, collectPids, makeCgroupDir, parentComponents } from '../tree.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';
import * as cpu from './cpu.js';
import * as cpuset from './cpuset.js';
import * as freezer from './freezer.js';
import { LEAF, isRealRoot, type VacateOptions } from './delegate.js';
import * as io from './io.js';
import * as memory from './memory.js';
import * as pids from './pids.js';
import { attachDeviceProgram } from './devices.js';
import { enableControllers } from './subtree.js';

/** The controller files, in the order apply() runs them. */
const MODULES: readonly ControllerModule<unknown>[] = [cpuset, cpu, memory, pids, io];

/** The v2 controllers Corral sets limits with; any others the root offers are enabled too. */
export const V2_USED_CONTROLLERS = ['cpu', 'memory', 'pids', 'cpuset', 'io'] as const;

export interface V2ManagerOptions extends CgroupManagerOptions {
  /** Where cgroup2 is mounted. */
  root: string;
  /** Corral's subtree below the root, e.g. `corral`. */
  parent: string;
  /** The root's cgroup.controllers as detected; reported until ensureParent() knows better. */
  rootControllers?: string[];
  /** corrald's own pid (default: this process), for the no-internal-process rule. */
  selfPid?: number;
  /** Where process names for the log are read; default `/proc`. */
  procDir?: string;
}

/**
 * cgroup v2 driver: the container's cgroup is `<root>/<parent>/<id>`, which holds its limits and
 * device program; its processes live in the child `<id>/payload` (no process of its own in `<id>`,
 * as the no-internal-process rule wants, and every controller handed down to the child, so a
 * delegated container can divide what it got but never raise it). ensureParent() hands every
 * controller the root offers down to Corral's subtree.
 *
 * The no-internal-process rule (delegate.ts, subtree.ts): when the root of the mount is not the
 * hierarchy's real root (a cgroup namespace root, as inside privileged Docker) and the kernel
 * refuses to enable controllers there with EBUSY because it holds processes, they all move into
 * the leaf `<root>/init` (corrald among them) and the write is retried.
 * In a cgroup of Corral's own subtree only corrald itself is moved (into `<dir>/init`); anyone
 * else's processes there are refused. Nothing ever moves out of the real root, which is exempt.
 */
export class V2CgroupManager implements CgroupManager {
  readonly driver = 'v2' as const;
  private readonly parent: string[];
  private readonly log: (message: string) => void;
  private enabled: string[] | undefined;

  constructor(private readonly opts: V2ManagerOptions) {
    this.parent = parentComponents(opts.parent);
    this.log = opts.log ?? ((m) => console.warn(`corral: ${m}`));
  }

  async ensureParent(): Promise<void> {
    const rootList = await readCgroupFile(join(this.opts.root, 'cgroup.controllers'));
    if (rootList === undefined) throw new CgroupError('read', join(this.opts.root, 'cgroup.controllers'), 'not a cgroup2 root');
    let offered = rootList.split(/\s+/).filter(Boolean);
    let dir = this.opts.root;
    const isRoot = await isRealRoot(dir);
    offered = await enableControllers(dir, offered, { isRoot, vacate: this.vacateOptions('everyone'), log: this.log });
    for (const part of this.parent) {
      dir = join(dir, part);
      await makeCgroupDir(dir);
      offered = await enableControllers(dir, offered, { isRoot: false, vacate: this.vacateOptions('self'), log: this.log });
    }
    this.enabled = offered;
  }

  async create(id: string): Promise<AppliedSetting[]> {
    checkCgroupName(id);
    await this.ensureParent();
    const dir = join(this.parentDir(), id);
    await makeCgroupDir(dir);
    // Before any process can be in the subtree: a program on `dir` covers every cgroup below it.
    const rules = DEFAULT_DEVICE_RULES.map(ruleText);
    await attachDeviceProgram(dir, rules, this.opts);
    const offered = ((await readCgroupFile(join(dir, 'cgroup.controllers'))) ?? '').split(/\s+/).filter(Boolean);
    await enableControllers(dir, offered, { isRoot: false, log: this.log });
    await makeCgroupDir(join(dir, PAYLOAD));
    return [{ limit: 'devices', requested: rulesRequested(DEFAULT_DEVICE_RULES), file: dir, value: rules.join('\n') }];
  }

  paths(id: string): string[] {
    checkCgroupName(id);
    return [join(this.parentDir(), id)];
  }

  processPaths(id: string): string[] {
    return this.paths(id).map((p) => join(p, PAYLOAD));
  }

  procsFiles(id: string): string[] {
    return this.processPaths(id).map((p) => join(p, 'cgroup.procs'));
  }

  async delegate(id: string, uid: number, gid: number): Promise<string[]> {
    const dirs = this.processPaths(id);
    await delegateDirs(dirs, uid, gid);
    return dirs;
  }

  pids(id: string): Promise<number[]> {
    return collectPids(this.paths(id));
  }

  /** SIGKILL goes through cgroup.kill where the kernel has it (5.14+): no race with fork. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const dirs = this.paths(id);
    const killFile = join(dirs[0]!, 'cgroup.kill');
    if (signal === 'SIGKILL' && (await exists(killFile))) await writeCgroupFile(killFile, '1');
    // Sends the signal (or, after cgroup.kill, just waits for the cgroup to drain).
    await signalCgroup(dirs, signal, this.opts);
  }

  async remove(id: string): Promise<void> {
    for (const dir of this.paths(id)) {
      await removeCgroupDir(join(dir, PAYLOAD), this.opts);
      await removeCgroupDir(dir, this.opts);
    }
  }

  /** Container cgroups: every child of the parent except the leaf corrald may have moved itself into. */
  async list(): Promise<string[]> {
    return (await childCgroups(this.parentDir())).filter((c) => c !== LEAF);
  }

  controllers(): CgroupControllers {
    const available = this.enabled ?? this.opts.rootControllers ?? [];
    return { available: [...available], missing: V2_USED_CONTROLLERS.filter((c) => !available.includes(c)) };
  }

  /** Removes only the last component of the parent (`b` of `a/b`), and only when it is empty. */
  async removeParent(): Promise<void> {
    const left = await this.list();
    if (left.length > 0) throw new CgroupError('remove', this.parentDir(), `still holds container cgroups: ${left.join(' ')}`);
    if ((await childCgroups(this.parentDir())).includes(LEAF)) await removeEmptyCgroupDir(join(this.parentDir(), LEAF), this.opts.rmdir);
    await removeEmptyCgroupDir(this.parentDir(), this.opts.rmdir);
  }

  async apply(id: string, limits: Limits, opts: ApplyOptions = {}): Promise<AppliedSetting[]> {
    const dir = this.paths(id)[0]!;
    const have = await this.containerControllers(dir);
    const list = [...have].join(' ') || 'none';
    const placed = MODULES.map((mod) => ({
      mod,
      dir,
      ...(have.has(mod.CONTROLLER) ? {} : { missing: `not enabled for this cgroup (its cgroup.controllers: ${list})` }),
    }));
    return applyPlaced(placed, limits, opts, this.log);
  }

  async stats(id: string): Promise<CgroupStats> {
    const dir = this.paths(id)[0]!;
    const have = await this.containerControllers(dir);
    return collectStats({
      // cpu.stat's usage is core cgroup accounting, there with or without the cpu controller.
      cpu: () => cpu.stats(dir),
      ...(have.has('memory') ? { memory: () => memory.stats(dir) } : {}),
      ...(have.has('pids') ? { pids: () => pids.stats(dir) } : {}),
      ...(have.has('io') ? { io: () => io.stats(dir) } : {}),
    });
  }

  async oomKills(id: string): Promise<number> {
    const dir = this.paths(id)[0]!;
    return (await this.containerControllers(dir)).has('memory') ? memory.oomKills(dir) : 0;
  }

  freeze(id: string): Promise<void> {
    return freezer.freeze(this.paths(id)[0]!, this.opts.freezeTimeoutMs ?? 10_000);
  }

  thaw(id: string): Promise<void> {
    return freezer.thaw(this.paths(id)[0]!, this.opts.freezeTimeoutMs ?? 10_000);
  }

  frozen(id: string): Promise<boolean> {
    return freezer.frozen(this.paths(id)[0]!);
  }

  private async containerControllers(dir: string): Promise<Set<string>> {
    const list = await readCgroupFile(join(dir, 'cgroup.controllers'));
    if (list === undefined) throw new CgroupError('read', join(dir, 'cgroup.controllers'), 'no such cgroup (create the container first)');
    return new Set(list.split(/\s+/).filter(Boolean));
  }

  private vacateOptions(move: VacateOptions['move']): VacateOptions {
    return { move, selfPid: this.opts.selfPid ?? process.pid, log: this.log, ...(this.opts.procDir ? { procDir: this.opts.procDir } : {}) };
  }

  private parentDir(): string {
    return join(this.opts.root, ...this.parent);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
