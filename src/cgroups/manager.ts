import type { AppliedSetting, CgroupStats, Limits } from './limits.js';

/**
 * One interface over cgroup v2 (the design centre) and v1 (hybrid or legacy hosts). The cgroup
 * root is a parameter so unit tests run against a fake cgroupfs in a temp dir.
 *
 * Limits are applied by one small file per controller (`v1/cpu.ts`, `v2/memory.ts`, ...) working
 * on the directories `paths(id)` returns.
 */
export type CgroupDriverName = 'v1' | 'v2';

export interface ApplyOptions {
  /**
   * Report limits whose controller this host lacks as skipped instead of failing
   * (`--ignore-missing-limits`); the container then runs without them.
   */
  ignoreMissing?: boolean;
}

export interface CgroupManager {
  readonly driver: CgroupDriverName;
  /** Make sure Corral's own subtree exists and is usable (controllers enabled, cpuset filled). */
  ensureParent(): Promise<void>;
  /**
   * Create the container's cgroup (and Corral's subtree if needed) in every mounted hierarchy,
   * with the child its processes live in (`payload`), and restrict its devices to the
   * container's /dev; idempotent. Returns the device rules written, for limits.json.
   */
  create(id: string): Promise<AppliedSetting[]>;
  /**
   * Absolute cgroup directories of the container, where its limits are written and read (one per
   * mounted v1 hierarchy and the hybrid cgroup2 mount, one on v2).
   */
  paths(id: string): string[];
  /** The children of paths(id) that hold the container's processes (its cgroup namespace root). */
  processPaths(id: string): string[];
  /** The cgroup.procs files a process writes its pid into to join the container's cgroup. */
  procsFiles(id: string): string[];
  /**
   * Delegate the container's process cgroup to its root user (uid/gid on the host): a system
   * container's init manages its own tree beneath the limits (v2: the subtree; v1 hosts: the
   * name=systemd hierarchy and the hybrid cgroup2 mount). Returns the directories handed over.
   */
  delegate(id: string, uid: number, gid: number): Promise<string[]>;
  /** Pids currently in the container's cgroup (nested cgroups included); zombies are not listed. */
  pids(id: string): Promise<number[]>;
  /**
   * Signal every process in the container's cgroup. SIGKILL is repeated until the cgroup is empty
   * (v2 ≥ 5.14 writes cgroup.kill instead); other signals are sent once.
   */
  kill(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** Remove the container's cgroup; idempotent, waits briefly for exiting tasks. */
  remove(id: string): Promise<void>;
  /** Container cgroups that exist under Corral's subtree (for leak checks and re-adoption). */
  list(): Promise<string[]>;
  /** Which controllers containers get and which Corral wanted but the host lacks. */
  controllers(): CgroupControllers;
  /** Remove Corral's own subtree directory if it holds no container cgroups (tests, uninstall). */
  removeParent(): Promise<void>;
  /**
   * Write `limits` into the container's existing cgroup: at start, before the program runs, and
   * for live updates. Every controller is checked first, so a missing one (ControllerMissingError,
   * naming the limit and the controller) fails before anything is written, unless
   * `ignoreMissing`. Returns each file written and its value, and what was skipped and why (a
   * missing controller with `ignoreMissing`; optional files such as v1 memsw, always).
   */
  apply(id: string, limits: Limits, opts?: ApplyOptions): Promise<AppliedSetting[]>;
  /** Usage and limits read from the kernel; a section is absent when its controller is. */
  stats(id: string): Promise<CgroupStats>;
  /**
   * Freeze every process of the container (Docker's pause): v1 freezer.state FROZEN, v2
   * cgroup.freeze 1. Resolves once the kernel reports the cgroup frozen; a freeze that does not
   * complete in time is undone and fails.
   */
  freeze(id: string): Promise<void>;
  /** Undo freeze(); resolves once the kernel reports the cgroup thawed. */
  thaw(id: string): Promise<void>;
  /** Whether the kernel reports the container's cgroup frozen (false when it has none). */
  frozen(id: string): Promise<boolean>;
  /** Processes the kernel OOM-killed in the container's cgroup so far (0 without a memory controller). */
  oomKills(id: string): Promise<number>;
}

export interface CgroupControllers {
  /** Controllers a container cgroup is in. */
  available: string[];
  /** Controllers Corral uses for limits that this host does not offer. */
  missing: string[];
  /** Hybrid hosts: controllers of the cgroup2 mount, which the v1 driver does not use. */
  unifiedOnly?: string[];
}

/** Side effects a test can replace; the defaults act on the real system. */
export interface CgroupManagerOptions {
  /** Where warnings go (controllers the kernel refused, settings that could not be made). */
  log?: (message: string) => void;
  /** Send a signal to one pid; tests replace it so a fake cgroupfs never signals real processes. */
  sendSignal?: (pid: number, signal: NodeJS.Signals) => void;
  /** rmdir of one cgroup directory; a fake cgroupfs emulates control files vanishing with it. */
  rmdir?: (path: string) => Promise<void>;
  /** How long remove() and kill() wait for exiting tasks; default 2000 ms. */
  timeoutMs?: number;
  /** How long freeze() and thaw() wait for the kernel; default 10 s. */
  freezeTimeoutMs?: number;
  /**
   * cgroup v2: attach a device program allowing only `rules` (kernel spelling, `c 1:3 rwm`) to a
   * cgroup. Default: run `<shim> devices DIR RULE...` (src/native/devices.c).
   */
  attachDevices?: (dir: string, rules: readonly string[]) => Promise<void>;
  /** The corral-shim binary, for the default attachDevices. */
  shim?: string;
}
