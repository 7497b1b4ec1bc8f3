import type { AppliedSetting } from '../cgroups/limits.js';
import type { ContainerChange, ContainerTop, CopyInResult, PathStat, DiskUsage, PruneReport, TemplateInfo } from '../api/types.js';
import type { ContainerConfig, ContainerInspect, ContainerState, ContainerSummary, StatsSample } from '../api/types.js';
import { attachSocketPath, exitsDir } from '../config.js';
import { NotFoundError } from '../errors.js';
import { isSameProcess } from '../system/procfs.js';
import { HealthMonitor } from './health-monitor.js';
import { Runtime, type RuntimeDeps, type StartOptions } from './lifecycle/context.js';
import { createContainer } from './lifecycle/create.js';
import { collectExits, waitExit } from './lifecycle/exits.js';
import { inspectContainer, listContainers, runtimeOf, stateOf, statsOf } from './lifecycle/inspect.js';
import { recover } from './lifecycle/recovery.js';
import { removeContainer } from './lifecycle/remove.js';
import { renameContainer } from './lifecycle/rename.js';
import { pauseContainer, unpauseContainer } from './lifecycle/pause.js';
import { topContainer } from './lifecycle/top.js';
import { diffContainer } from './lifecycle/diff.js';
import { copyIn, copyOut, statPath, type CopyOutResult } from './lifecycle/copy.js';
import { pruneContainers } from './lifecycle/prune.js';
import { diskUsage } from './lifecycle/df.js';
import { startContainer, startLocked } from './lifecycle/start.js';
import { killContainer, signalPid1, stopContainer, waitContainer } from './lifecycle/stop.js';
import { updateContainer } from './lifecycle/update.js';
import { ContainerNetworking } from './networking/index.js';
import { formatRestartPolicy } from './restart-policy.js';
import { assertCan } from './status.js';
import type { ContainerStore } from './store.js';
import { Supervisor } from './supervisor.js';
import { DEFAULT_STOP_TIMEOUT_S } from './defaults.js';
import type { Volumes } from './volumes.js';

export type { EventSink, Logger, LxcfsSource, ProcessSeam, RuntimeDeps, StartOptions, TemplateSource } from './lifecycle/context.js';
export { oomMessage } from './lifecycle/inspect.js';

/**
 * Containers: the facade the daemon's routes call. Each verb lives in its own file under
 * `lifecycle/` as a function of the shared `Runtime`; operations on one container are serialized
 * by its lock; exits are handled when a monitor's notification appears in <run>/exits (also those
 * written while corrald was away).
 */
export class Containers {
  private readonly rt: Runtime;
  private watcher: { close(): void } | undefined;
  private sweep: NodeJS.Timeout | undefined;

  constructor(deps: RuntimeDeps) {
    const rt = (this.rt = new Runtime(deps));
    rt.net = deps.network
      ? new ContainerNetworking({
          ...deps.network,
          store: rt.store,
          log: deps.log,
          containers: () => rt.index.all(),
          ...(deps.unshare ? { unshare: deps.unshare } : {}),
          shim: deps.shim,
        })
      : undefined;
    rt.supervisor = new Supervisor({
      store: rt.store,
      ...(deps.backoff ? { backoff: deps.backoff } : {}),
      log: deps.log,
      lookup: (id) => rt.index.get(id),
      restart: (id) =>
        rt.locks.run(id, async () => {
          const c = rt.index.get(id);
          if (!c) return;
          if ((await stateOf(rt, id)).status === 'running') return;
          await startLocked(rt, c, {});
        }),
      onRestart: (c, attempt) => deps.events?.record('restart', c, { attempt, policy: formatRestartPolicy(c.restartPolicy) }),
      onReboot: (c) => deps.events?.record('restart', c, { reason: 'reboot' }),
    });
    rt.health = new HealthMonitor({
      store: rt.store,
      shim: deps.shim,
      log: deps.log,
      procsFiles: (id) => deps.cgroups.procsFiles(id),
      pidOf: async (id) => {
        const r = await rt.store.readRuntime(id);
        return r && (await isSameProcess(r.pid, r.pidStartTime)) ? { pid: r.pid, pidStartTime: r.pidStartTime } : undefined;
      },
      onChange: (c, h) => deps.events?.record('health_status', c, { status: h.status, failingStreak: h.failingStreak }),
      act: async (c, action) => {
        if (action === 'stop') await this.stop(c.id);
        else if (action === 'restart') await this.restart(c.id);
        // kill: as if it crashed, so the restart policy decides what happens next.
        else await rt.locks.run(c.id, () => signalPid1(rt, c.id, 'SIGKILL'));
      },
    });
  }

  get store(): ContainerStore {
    return this.rt.store;
  }
  get net(): ContainerNetworking | undefined {
    return this.rt.net;
  }

  // ---- daemon start and stop ------------------------------------------------------------------

  async init(): Promise<void> {
    await recover(this.rt);
    this.watcher = this.rt.processes.watchExits(exitsDir(this.rt.deps.paths), () => void collectExits(this.rt));
    // inotify can overflow; a slow sweep makes sure no exit is missed.
    this.sweep = setInterval(() => void collectExits(this.rt), 5000).unref();
  }

  close(): void {
    this.rt.supervisor.close();
    this.rt.health.close();
    this.watcher?.close();
    if (this.sweep) clearInterval(this.sweep);
  }

  /** At corrald stop, after close(): undo host state nothing needs any more (an empty netns directory's mount). */
  async release(): Promise<void> {
    await this.rt.net?.close();
  }

  // ---- queries --------------------------------------------------------------------------------

  resolve(ref: string): ContainerConfig {
    return this.rt.resolve(ref);
  }
  state(id: string): Promise<ContainerState> {
    return stateOf(this.rt, id);
  }
  list(all: boolean): Promise<ContainerSummary[]> {
    return listContainers(this.rt, all);
  }
  inspect(ref: string): Promise<ContainerInspect> {
    return inspectContainer(this.rt, ref);
  }
  stats(ref: string): Promise<StatsSample> {
    return statsOf(this.rt, ref);
  }
  top(ref: string, psArgs: readonly string[]): Promise<ContainerTop> {
    return topContainer(this.rt, ref, psArgs);
  }
  /** Named volumes (src/runtime/volumes.ts). */
  get volumes(): Volumes {
    return this.rt.volumes;
  }
  diff(ref: string): Promise<ContainerChange[]> {
    return diffContainer(this.rt, ref);
  }
  statPath(ref: string, path: string): Promise<PathStat> {
    return statPath(this.rt, ref, path);
  }
  copyOut(ref: string, path: string): Promise<CopyOutResult> {
    return copyOut(this.rt, ref, path);
  }
  copyIn(ref: string, path: string, body: AsyncIterable<Buffer>, opts: Parameters<typeof copyIn>[4]): Promise<CopyInResult> {
    return copyIn(this.rt, ref, path, body, opts);
  }
  diskUsage(templates: readonly TemplateInfo[]): Promise<DiskUsage> {
    return diskUsage(this.rt, templates);
  }
  runtimeOf(ref: string): Promise<{ config: ContainerConfig; pid: number; pidStartTime: number }> {
    return runtimeOf(this.rt, ref);
  }
  get cgroupDriver(): 'v1' | 'v2' {
    return this.rt.deps.cgroups.driver;
  }
  procsFiles(id: string): string[] {
    return this.rt.deps.cgroups.procsFiles(id);
  }
  attachSocket(id: string): string {
    return attachSocketPath(this.rt.deps.paths, id);
  }
  async assertAttachable(id: string): Promise<void> {
    const c = this.rt.index.get(id);
    if (!c) throw new NotFoundError(`no such container: ${id}`);
    assertCan(c.name, (await this.state(id)).status, 'attach');
  }
  /** Warnings for the create response (for example about `--network host`). */
  createWarnings(c: ContainerConfig): string[] {
    return this.rt.net?.warnings(c) ?? [];
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  create(request: unknown): Promise<ContainerConfig> {
    return createContainer(this.rt, request);
  }
  /** The shared runtime, for the verbs of backup/ (backup, restore, snapshots, clone). */
  get runtime(): Runtime {
    return this.rt;
  }
  start(ref: string, opts: StartOptions = {}): Promise<ContainerState> {
    return startContainer(this.rt, ref, opts);
  }
  kill(ref: string, signal: NodeJS.Signals | number): Promise<void> {
    return killContainer(this.rt, ref, signal);
  }
  /** Without a timeout: the container's `--stop-timeout`, else 10 s (Docker's rule). */
  stop(ref: string, timeoutS?: number): Promise<void> {
    return stopContainer(this.rt, ref, timeoutS ?? this.rt.resolve(ref).stopTimeout ?? DEFAULT_STOP_TIMEOUT_S);
  }
  async restart(ref: string, timeoutS?: number): Promise<ContainerState> {
    await this.stop(ref, timeoutS);
    const state = await this.start(ref);
    this.rt.deps.events?.record('restart', this.resolve(ref));
    return state;
  }
  wait(ref: string): Promise<ContainerState> {
    return waitContainer(this.rt, ref);
  }
  remove(ref: string, force: boolean): Promise<void> {
    return removeContainer(this.rt, ref, force);
  }
  pause(ref: string): Promise<void> {
    return pauseContainer(this.rt, ref);
  }
  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.rt, ref);
  }
  prune(): Promise<PruneReport> {
    return pruneContainers(this.rt);
  }
  rename(ref: string, name: unknown): Promise<ContainerConfig> {
    return renameContainer(this.rt, ref, name);
  }
  update(ref: string, body: unknown): Promise<{ id: string; applied: AppliedSetting[] }> {
    return updateContainer(this.rt, ref, body);
  }
  /** Resolves once the container is not running and its exit has been handled (or it is gone). */
  async waitSettled(id: string, timeoutMs = 15_000): Promise<void> {
    await waitExit(this.rt, id, timeoutMs);
  }
}
