import { EventEmitter } from 'node:events';
import { watch } from 'node:fs';
import type { ContainerConfig, EventType } from '../../api/types.js';
import type { Logger } from '../../util/logger.js';
import type { CgroupManager } from '../../cgroups/manager.js';
import { containersDir, type CorralPaths } from '../../config.js';
import type { EtcBind } from '../../namespaces/argv.js';
import type { NetnsStore, NetworkRegistry } from '../../network/index.js';
import { isSameProcess } from '../../system/procfs.js';
import { ExecaRunner, type Runner } from '../../system/runner.js';
import { Disks, realHost, type HostView } from '../../storage/index.js';
import type { ResolvedTemplate } from '../../rootfs/templates.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { ContainerIndex } from '../index.js';
import type { HostResources } from '../limits.js';
import type { ContainerNetworking } from '../networking/index.js';
import type { Backoff } from '../restart-policy.js';
import { compileSeccomp } from '../../security/seccomp.js';
import { spawnMonitor, type SpawnedMonitor } from '../shim.js';
import { ContainerStore } from '../store.js';
import type { Supervisor } from '../supervisor.js';
import type { HealthMonitor } from '../health-monitor.js';
import { poolFor, type IdmapPool } from '../../security/idmap-pool.js';

/** What the runtime needs from the template store. */
export interface TemplateSource {
  /**
   * Build on first use (autoBuild recipes); returns the read-only layers (top first, overlayfs'
   * lowerdir order; `rootfs` is the top one, kept for callers of the one-layer days) and the
   * template's defaults ('' = none).
   */
  resolve(name: string): Promise<ResolvedTemplate>;
}

export type { Logger };

/** Where lifecycle events go (the daemon's journal); optional so tests can leave it out. */
export interface EventSink {
  record(type: EventType, c: { id: string; name: string }, attributes?: Record<string, string | number | boolean | null>): unknown;
}

/**
 * The side effects on processes, behind one seam: lifecycle unit tests record them instead of
 * spawning monitors and signalling real pids.
 */
export interface ProcessSeam {
  /** Where process status is read (a fake /proc in tests). */
  procRoot: string;
  spawnMonitor(shim: string, argv: readonly string[], stderrFile: string): SpawnedMonitor;
  /** Send a signal; a process that is already gone (ESRCH) is not an error. */
  signal(pid: number, signal: NodeJS.Signals | number): void;
  /** The kernel's word on whether this pid is still the process that started at `startTime`. */
  isAlive(pid: number, startTime: number): Promise<boolean>;
  /** Call `onChange` when the exit notification directory changes. */
  watchExits(dir: string, onChange: () => void): { close(): void };
  /** `corral-seccomp FLAT OUT`, next to the shim (a container's filter, once, at create). */
  compileSeccomp(shim: string, flat: string, out: string): Promise<void>;
}

export const REAL_PROCESSES: ProcessSeam = {
  procRoot: '/proc',
  spawnMonitor,
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  },
  isAlive: (pid, startTime) => isSameProcess(pid, startTime, '/proc'),
  watchExits: (dir, onChange) => watch(dir, onChange),
  compileSeccomp,
};

/** The LXCFS files a container gets bound over its /proc and /sys files (none: the host's show). */
export interface LxcfsSource {
  bindsFor(c: ContainerConfig): Promise<readonly EtcBind[]>;
}

export interface RuntimeDeps {
  events?: EventSink;
  /** LXCFS; without it containers see the host's /proc/meminfo, cpuinfo, uptime, ... */
  lxcfs?: LxcfsSource;
  /** Restart back-off; Kubernetes' 10 s doubling to 300 s by default. */
  backoff?: Backoff;
  paths: CorralPaths;
  cgroups: CgroupManager;
  templates: TemplateSource;
  shim: string;
  log: Logger;
  unshare?: string;
  /** Networks and network namespaces; without them every container is loopback-only (tests of other parts). */
  network?: { registry: NetworkRegistry; netns: NetnsStore; runner: Runner; nsenter?: string; hostHosts?: string; hostResolvConf?: string };
  /** The network of a container that names none: `bridge` (default) or `none` (hosts without nftables). */
  defaultNetwork?: 'bridge' | 'none';
  /** The user namespace of a container that names none: `private` (default) or `host` (no idmapped mounts on the data root). */
  defaultUserns?: 'private' | 'host';
  /** Monitors, signals and the exit watcher; the real ones unless a test records them. */
  processes?: ProcessSeam;
  /** Where disk quotas run mkfs, mount and losetup and read mountinfo; the host's unless a test records them. */
  storageHost?: HostView;
  /** Host id ranges for containers' user namespaces; `<dataRoot>/userns-pool.json` unless given. */
  idmapPool?: IdmapPool;
}

export interface StartOptions {
  /** Time spent on the checks before the start proper, for the phase log. */
  checksMs?: number;
  /** Called once the monitor listens and before the container runs (foreground attach). */
  attach?: (socketPath: string) => Promise<void>;
}

/**
 * What every verb works with: the deps, the store, the in-memory index, per-container locks, and
 * the exit signal that waiters listen to. Verbs are functions of this (one file each).
 */
export class Runtime {
  readonly store: ContainerStore;
  readonly index = new ContainerIndex();
  /** Containers whose config cannot be read: kept and listed, never deleted behind the user's back. */
  readonly broken = new Map<string, string>();
  readonly locks = new KeyedMutex();
  /** `exit:<id>` once an exit has been handled. */
  readonly exits = new EventEmitter();
  readonly processes: ProcessSeam;
  /** Disk quotas (`--storage-opt size=`). */
  readonly disks: Disks;
  readonly idmap: IdmapPool;
  host: HostResources | undefined;
  parentReady: Promise<void> | undefined;
  // Set by the facade right after construction (they call back into the verbs).
  net!: ContainerNetworking | undefined;
  supervisor!: Supervisor;
  health!: HealthMonitor;

  constructor(readonly deps: RuntimeDeps) {
    this.store = new ContainerStore(deps.paths);
    this.processes = deps.processes ?? REAL_PROCESSES;
    this.disks = new Disks({ dataRoot: deps.paths.dataRoot, containersDir: containersDir(deps.paths), host: deps.storageHost ?? realHost(new ExecaRunner()) });
    this.idmap = deps.idmapPool ?? poolFor(deps.paths.dataRoot);
    this.exits.setMaxListeners(0);
  }

  get log(): Logger {
    return this.deps.log;
  }

  resolve(ref: string): ContainerConfig {
    return this.index.resolve(ref);
  }
}
