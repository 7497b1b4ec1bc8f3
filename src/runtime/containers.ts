import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { AppliedSetting } from '../cgroups/limits.js';
import { limitsFromFlags, readHostResources, type HostResources } from './limits.js';
import { mergeApplied, mergeLimits } from './limits-merge.js';
import { formatRestartPolicy, parseRestartPolicy, type Backoff } from './restart-policy.js';
import { Supervisor } from './supervisor.js';
import { HealthMonitor } from './health-monitor.js';
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, ContainerInspect, ContainerState, ContainerSummary, MountInfo, StatsSample } from '../api/types.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { attachSocketPath, exitsDir, type CorralPaths } from '../config.js';
import { CorralError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { startArgv } from '../namespaces/argv.js';
import { isSameProcess } from '../system/procfs.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { crashPoint } from '../util/crash.js';
import { PhaseTimer } from '../util/phase-timer.js';
import { etcBinds, writeEtcFiles } from './etc-files.js';
import { ContainerIndex } from './index.js';
import { MASKED_PATHS, READONLY_PATHS } from './policy.js';
import { spawnMonitor } from './shim.js';
import { configFromRequest, validateLabels, validateLimitRequest } from './spec.js';
import { deriveState, statusText } from './state.js';
import { assertCan } from './status.js';
import { ContainerStore } from './store.js';
import { ContainerNetworking } from './networking.js';
import type { NetnsStore, NetworkRegistry } from '../network/index.js';
import type { Runner } from '../system/runner.js';

/** What the runtime needs from the template store. */
export interface TemplateSource {
  /** Build on first use; returns the read-only lower layer and the template's defaults. */
  resolve(name: string): Promise<{ rootfs: string; env: string[]; command: string[] }>;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Where lifecycle events go (the daemon's journal); optional so tests can leave it out. */
export interface EventSink {
  record(type: 'create' | 'start' | 'die' | 'oom' | 'kill' | 'stop' | 'restart' | 'destroy' | 'update' | 'health_status', c: { id: string; name: string }, attributes?: Record<string, string | number | boolean | null>): unknown;
}

export interface RuntimeDeps {
  events?: EventSink;
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
}

export interface StartOptions {
  /** Time spent on the checks before startLocked, for the phase log. */
  checksMs?: number;
  /** Called once the monitor listens and before the container runs (foreground attach). */
  attach?: (socketPath: string) => Promise<void>;
}

/**
 * Containers composed from the store, cgroups, the shim and the index: create, start, stop, kill,
 * remove, inspect. Operations on one container are serialized; exits are handled when a monitor's
 * notification appears in <run>/exits (also those written while corrald was away).
 */
export class Containers {
  readonly store: ContainerStore;
  private readonly index = new ContainerIndex();
  private readonly locks = new KeyedMutex();
  private readonly events = new EventEmitter();
  private watcher: { close(): void } | undefined;
  private host: HostResources | undefined;
  private parentReady: Promise<void> | undefined;
  private sweep: NodeJS.Timeout | undefined;

  private readonly supervisor: Supervisor;
  private readonly health: HealthMonitor;
  readonly net: ContainerNetworking | undefined;

  constructor(private readonly deps: RuntimeDeps) {
    this.store = new ContainerStore(deps.paths);
    this.events.setMaxListeners(0);
    this.net = deps.network
      ? new ContainerNetworking({
          ...deps.network,
          store: this.store,
          log: deps.log,
          containers: () => this.index.all(),
          ...(deps.unshare ? { unshare: deps.unshare } : {}),
        })
      : undefined;
    this.supervisor = new Supervisor({
      store: this.store,
      ...(deps.backoff ? { backoff: deps.backoff } : {}),
      log: deps.log,
      lookup: (id) => this.index.get(id),
      restart: (id) =>
        this.locks.run(id, async () => {
          const c = this.index.get(id);
          if (!c) return;
          const st = (await this.state(id)).status;
          if (st === 'running') return;
          await this.startLocked(c, {});
        }),
      onRestart: (c, attempt) => this.deps.events?.record('restart', c, { attempt, policy: formatRestartPolicy(c.restartPolicy) }),
    });
    this.health = new HealthMonitor({
      store: this.store,
      shim: deps.shim,
      log: deps.log,
      procsFiles: (id) => this.deps.cgroups.procsFiles(id),
      pidOf: async (id) => {
        const rt = await this.store.readRuntime(id);
        return rt && (await isSameProcess(rt.pid, rt.pidStartTime)) ? { pid: rt.pid, pidStartTime: rt.pidStartTime } : undefined;
      },
      onChange: (c, h) => this.deps.events?.record('health_status', c, { status: h.status, failingStreak: h.failingStreak }),
      act: async (c, action) => {
        if (action === 'stop') await this.stop(c.id, 10);
        else if (action === 'restart') await this.restart(c.id, 10);
        // kill: as if it crashed, so the restart policy decides what happens next.
        else await this.locks.run(c.id, () => this.signal(c.id, 'SIGKILL'));
      },
    });
  }

  // ---- start-up and exits ------------------------------------------------------------------

  /** Load committed containers, finish interrupted creates and removes, collect missed exits. */
  async init(): Promise<void> {
    await mkdir(exitsDir(this.deps.paths), { recursive: true, mode: 0o700 });
    await mkdir(join(this.deps.paths.runRoot, 'a'), { recursive: true, mode: 0o700 });
    for (const trash of await this.store.listTrash()) await rm(trash, { recursive: true, force: true });
    for (const id of await this.store.listIds()) {
      const config = await this.store.readConfig(id).catch(() => undefined);
      if (!config) {
        this.deps.log.warn('removing a container whose create never finished', { id });
        await this.deps.cgroups.remove(id).catch(() => {});
        await this.store.destroy(id);
        continue;
      }
      this.index.add(config);
    }
    await this.collectExits();
    if (this.net) {
      const running = new Set<string>();
      for (const c of this.index.all()) if ((await this.state(c.id)).status === 'running') running.add(c.id);
      await this.net.init(running);
    }
    await this.removeOrphans();
    await this.resumePolicies();
    for (const c of this.index.all()) {
      if (!c.healthcheck) continue;
      const s = await this.state(c.id);
      if (s.status === 'running') await this.health.watch(c, Date.parse(s.startedAt ?? new Date().toISOString()), false);
    }
    const { watch } = await import('node:fs');
    this.watcher = watch(exitsDir(this.deps.paths), () => void this.collectExits());
    // inotify can overflow; a slow sweep makes sure no exit is missed.
    this.sweep = setInterval(() => void this.collectExits(), 5000).unref();
  }

  close(): void {
    this.supervisor.close();
    this.health.close();
    this.watcher?.close();
    if (this.sweep) clearInterval(this.sweep);
  }

  /** At corrald stop, after close(): undo host state nothing needs any more (an empty netns directory's mount). */
  async release(): Promise<void> {
    await this.net?.close();
  }

  /**
   * What an interrupted operation can leave: a cgroup of no container (or of one not running, from
   * a start cut short), an attach socket of no container. Removed at every daemon start.
   */
  private async removeOrphans(): Promise<void> {
    for (const id of await this.deps.cgroups.list()) {
      const known = this.index.get(id);
      if (known && (await this.state(id)).status === 'running') continue;
      this.deps.log.warn('removing a cgroup left by an interrupted operation', { id });
      await this.deps.cgroups.remove(id).catch((err: unknown) => this.deps.log.error('cannot remove orphan cgroup', { id, err: String(err) }));
    }
    const sockets = join(this.deps.paths.runRoot, 'a');
    const live = new Set(this.index.all().map((c) => `${c.id.slice(0, 12)}.sock`));
    for (const f of await readdir(sockets).catch(() => [] as string[])) {
      if (!live.has(f)) await rm(join(sockets, f), { force: true });
    }
  }

  /**
   * After a daemon restart or a reboot: every container whose policy wants it running gets its
   * decision (once per run) or its pending restart back. `always` comes back even if the user had
   * stopped it (Docker's rule); `unless-stopped` does not.
   */
  private async resumePolicies(): Promise<void> {
    for (const c of this.index.all()) {
      if (c.restartPolicy.name === 'no' || c.autoRemove) continue;
      const s = await this.state(c.id);
      if (s.status === 'running' || s.status === 'created') continue;
      const rs = await this.store.readPolicy(c.id);
      if (c.restartPolicy.name === 'always' && rs.userStopped) {
        await this.store.writePolicy(c.id, { ...rs, userStopped: false, decidedRun: null });
      }
      await this.supervisor.onExit(c, s);
    }
  }

  private async collectExits(): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(exitsDir(this.deps.paths));
    } catch {
      return;
    }
    for (const id of names.filter((n) => /^[0-9a-f]{64}$/.test(n))) {
      await this.locks.run(id, () => this.handleExit(id)).catch((err) => this.deps.log.error('handling exit failed', { id, err: String(err) }));
    }
  }

  /** Must run under the container's lock. Idempotent: acts only while the notification exists. */
  private async handleExit(id: string): Promise<void> {
    const notify = join(exitsDir(this.deps.paths), id);
    if (!existsSync(notify)) return;
    const config = this.index.get(id);
    if (config) {
      const state = await this.state(id);
      if (state.status === 'running') return; // from an earlier run; the current one is alive
      this.health.unwatch(id);
      const kills = await this.deps.cgroups.oomKills(id).catch(() => 0);
      if (kills > 0) {
        const message = oomMessage(config, this.deps.cgroups.driver);
        await this.store.writeOom(id, { kills, message });
        this.deps.log.warn('container OOM-killed', { id, name: config.name, oomKills: kills, message });
        this.deps.events?.record('oom', config, { oomKills: kills, message });
      }
      await this.deps.cgroups.remove(id);
      await this.tearDownNetwork(config);
      this.deps.log.info('container exited', { id, name: config.name, exitCode: state.exitCode, error: state.error });
      this.deps.events?.record('die', config, { exitCode: state.exitCode, signal: state.signal, oomKilled: kills > 0, error: state.error });
      if (config.autoRemove) await this.destroy(config);
      // The state read above already has what the policy decides on (exit code and times).
      else await this.supervisor.onExit(config, state);
    }
    await rm(notify, { force: true });
    this.events.emit(`exit:${id}`);
  }

  /** Resolves when the container is not running any more (and its exit has been handled). */
  private waitExit(id: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.events.off(`exit:${id}`, onExit);
        resolve(v);
      };
      const onExit = (): void => finish(true);
      const check = async (): Promise<void> => {
        const c = this.index.get(id);
        if (!c) return finish(true);
        if ((await this.state(id)).status !== 'running') {
          await this.collectExits();
          finish(true);
        }
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const poll = setInterval(() => void check(), 200);
      this.events.on(`exit:${id}`, onExit);
      void check();
    });
  }

  // ---- queries -------------------------------------------------------------------------------

  resolve(ref: string): ContainerConfig {
    return this.index.resolve(ref);
  }

  async state(id: string): Promise<ContainerState> {
    const [runtime, exit, saved] = await Promise.all([this.store.readRuntime(id), this.store.readExit(id), this.store.readOom(id)]);
    // After an exit the count was saved before the cgroup went; while running it is live.
    let oom = saved;
    if (!oom && runtime && !exit) {
      const kills = await this.deps.cgroups.oomKills(id).catch(() => 0);
      const c = this.index.get(id);
      oom = { kills, message: kills > 0 && c ? oomMessage(c, this.deps.cgroups.driver) : null };
    }
    const s = await deriveState(runtime, exit, '/proc', oom ?? undefined);
    const c = this.index.get(id);
    if (c?.healthcheck && s.status !== 'created') s.health = (await this.store.readHealth(id)) ?? null;
    if (c && c.restartPolicy.name !== 'no') {
      const rs = await this.store.readPolicy(id);
      s.restartCount = rs.restartCount;
      if (s.status === 'exited' && this.supervisor.pending(id) && rs.nextRestartAt !== null) {
        s.status = 'restarting';
        s.nextRestartAt = new Date(rs.nextRestartAt).toISOString();
      }
    }
    return s;
  }

  async list(all: boolean): Promise<ContainerSummary[]> {
    // One state read per container, all at once: each is a few small files and /proc reads.
    const rows = await Promise.all(
      this.index.all().map(async (c): Promise<ContainerSummary | undefined> => {
        const s = await this.state(c.id);
        if (!all && s.status !== 'running') return undefined;
        return {
          id: c.id,
          name: c.name,
          template: c.template,
          command: c.command,
          status: s.status,
          statusText: statusText(s),
          exitCode: s.exitCode,
          pid: s.pid,
          createdAt: c.createdAt,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
          manifest: c.labels['corral.manifest'] ?? null,
          ...(this.net?.summary(c, s.status === 'running') ?? { networkMode: c.network.mode, networks: [], ports: [] }),
        };
      }),
    );
    return rows.filter((r): r is ContainerSummary => r !== undefined).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async inspect(ref: string): Promise<ContainerInspect> {
    const c = this.resolve(ref);
    const layout = this.store.layout(c.id);
    const lower = await this.deps.templates.resolve(c.template).then((t) => [t.rootfs], () => []);
    const state = await this.state(c.id);
    return {
      id: c.id,
      name: c.name,
      config: c,
      state,
      networkSettings: this.net?.settings(c, state.status === 'running') ?? {
        mode: c.network.mode, networks: {}, ipAddress: null, gateway: null, macAddress: null, ports: [], sandboxKey: null, warnings: [],
      },
      rootfs: { lower, upper: layout.upper, work: layout.work, mountpoint: layout.mountpoint },
      mounts: mountsOf(c, lower, layout),
      cgroup: { driver: this.deps.cgroups.driver, paths: this.deps.cgroups.paths(c.id) },
      limits: await this.store.readApplied(c.id),
      logPath: this.store.file(c.id, 'container.log'),
    };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  async create(request: unknown): Promise<ContainerConfig> {
    const templateName = (request as { template?: unknown } | null)?.template;
    // Validate everything that does not need the template first, so bad input fails fast.
    const defaults = { defaultNetwork: [this.deps.defaultNetwork ?? 'bridge'] };
    configFromRequest(request, undefined, undefined, defaults);
    const template = await this.deps.templates.resolve(String(templateName));
    const config = configFromRequest(request, template.env, template.command, defaults);
    const { oomScoreAdj: _adj, ...flags } = config.limitRequest;
    this.host ??= await readHostResources();
    config.limits = await limitsFromFlags(flags, this.host);
    if (config.network.mode !== 'none' && !this.net) throw new ValidationError(`--network ${config.network.mode}: networking is not available in this corrald`);
    const commit = async (): Promise<void> => {
      // Networks, addresses and host ports are checked before anything is made.
      await this.net?.validate(config);
      this.index.reserve(config.name, config.id);
      try {
        await this.store.prepare(config);
        crashPoint('create:prepared');
        await writeEtcFiles(this.store, config);
        crashPoint('create:etc-written');
        await this.store.writeConfig(config); // the commit point
        crashPoint('create:committed');
        this.index.add(config);
      } catch (err) {
        this.index.release(config.name, config.id);
        await this.store.destroy(config.id).catch(() => {});
        throw err;
      }
    };
    // A user-defined network cannot be removed between the check and the commit.
    if (this.net && config.network.networks.some((e) => e.network !== 'bridge')) await this.net.locked(commit);
    else await commit();
    this.deps.log.info('container created', { id: config.id, name: config.name });
    this.deps.events?.record('create', config, { template: config.template });
    return config;
  }

  async start(ref: string, opts: StartOptions = {}): Promise<ContainerState> {
    const c = this.resolve(ref);
    return this.locks.run(c.id, async () => {
      const t0 = performance.now();
      // The pending-exit check and the current state are independent reads: do them at once.
      const [pending, before] = await Promise.all([this.pendingExit(c.id), this.state(c.id)]);
      if (pending) await this.handleExit(c.id);
      if (!this.index.get(c.id)) throw new NotFoundError(`no such container: ${ref}`);
      assertCan(c.name, pending ? (await this.state(c.id)).status : before.status, 'start');
      if (c.restartPolicy.name !== 'no') await this.supervisor.userStarted(c.id);
      const checksMs = Math.round((performance.now() - t0) * 100) / 100;
      try {
        return await this.startLocked(c, { ...opts, checksMs });
      } catch (err) {
        // `run --rm` that never got going leaves nothing behind (an exec failure is removed by
        // the exit path, which the monitor's exit record triggers).
        if (c.autoRemove && !(await this.pendingExit(c.id)) && (await this.state(c.id)).status !== 'running') {
          await this.deps.cgroups.remove(c.id).catch(() => {});
          await this.tearDownNetwork(c);
          await this.destroy(c).catch(() => {});
        }
        throw err;
      }
    });
  }

  private async pendingExit(id: string): Promise<boolean> {
    return readdir(exitsDir(this.deps.paths)).then((n) => n.includes(id), () => false);
  }

  private async startLocked(c: ContainerConfig, opts: StartOptions): Promise<ContainerState> {
    const t = new PhaseTimer();
    if (opts.checksMs !== undefined) t.phases.checks = opts.checksMs;
    const template = await this.deps.templates.resolve(c.template);
    t.mark('template');
    const socket = attachSocketPath(this.deps.paths, c.id);
    // The last run's records and socket go while the network and cgroup are made (start is hot).
    const cleared = Promise.all([this.store.clearRun(c.id), rm(socket, { force: true })]);
    cleared.catch(() => {});
    // Corral's own subtree is set up once per daemon (again only if that failed).
    this.parentReady ??= this.deps.cgroups.ensureParent().catch((err: unknown) => {
      this.parentReady = undefined;
      throw err;
    });
    await this.parentReady;
    // The network first, then the cgroup, right before the monitor that joins it.
    let namespaces: readonly string[] | undefined;
    if (this.net) {
      namespaces = await this.net.setUp(c);
      t.mark('network');
    }
    let applied: AppliedSetting[];
    try {
      await this.deps.cgroups.create(c.id);
      crashPoint('start:cgroup-created');
      applied = await this.deps.cgroups.apply(c.id, c.limits, { ignoreMissing: c.ignoreMissingLimits });
    } catch (err) {
      await this.deps.cgroups.remove(c.id).catch(() => {});
      await this.tearDownNetwork(c);
      throw err;
    }
    await cleared;
    t.mark('cgroup');
    // What the kernel got is written while the monitor starts the container.
    const appliedWritten = this.store.writeApplied(c.id, applied);
    appliedWritten.catch(() => {});
    const etc = etcBinds(this.store, c);
    const argv = startArgv(
      {
        shim: this.deps.shim,
        id: c.id,
        stateDir: this.store.dir(c.id),
        logFile: this.store.file(c.id, 'container.log'),
        socket,
        exitNotify: join(exitsDir(this.deps.paths), c.id),
        cgroupProcs: this.deps.cgroups.procsFiles(c.id),
        tty: c.tty,
        stdin: c.interactive,
        waitAttach: opts.attach !== undefined,
      },
      c,
      { lower: [template.rootfs], ...this.store.layout(c.id) },
      etc,
      this.deps.unshare,
      namespaces,
    );
    const monitor = spawnMonitor(this.deps.shim, argv, this.store.file(c.id, 'monitor.log'));
    crashPoint('start:monitor-spawned');
    t.mark('spawn');
    let started: { pid: number } | undefined;
    try {
      let report = await monitor.next();
      t.mark('report');
      if (report.kind === 'ready') {
        await opts.attach!(socket);
        report = await monitor.next();
      }
      if (report.kind === 'failed') {
        // The monitor has written exit.json; clean up what start made.
        await this.deps.cgroups.remove(c.id).catch(() => {});
        await this.tearDownNetwork(c);
        throw new CorralError('command_failed', report.message, { exitCode: report.code, id: c.id });
      }
      if (report.kind !== 'started') throw new CorralError('internal', `corral-shim monitor: unexpected report ${report.kind}`);
      started = report;
    } catch (err) {
      if (!(err instanceof CorralError && err.code === 'command_failed')) {
        monitor.child.kill('SIGKILL');
        await this.deps.cgroups.remove(c.id).catch(() => {});
        // The container's process may outlive its monitor for a moment: delete the veths themselves.
        await this.tearDownNetwork(c, { processesMayRemain: true });
      }
      throw err;
    } finally {
      monitor.release();
    }
    // The monitor wrote runtime.json before reporting; the report is the same fact, so no re-read.
    const state: ContainerState = {
      status: 'running', pid: started!.pid, monitorPid: monitor.child.pid ?? null, exitCode: null, signal: null, error: null,
      startedAt: new Date().toISOString(), finishedAt: null, oomKilled: false, oomKills: 0, oomMessage: null,
      restartCount: c.restartPolicy.name === 'no' ? 0 : (await this.store.readPolicy(c.id)).restartCount, nextRestartAt: null, health: null,
    };
    await appliedWritten;
    if (c.healthcheck) {
      await this.health.watch(c, Date.now(), true);
      state.health = { status: 'starting', failingStreak: 0, log: [] };
    }
    t.mark('state');
    this.deps.log.info('container started', { id: c.id, name: c.name, phasesMs: t.phases });
    this.deps.events?.record('start', c, { pid: state.pid });
    return state;
  }

  async kill(ref: string, signal: NodeJS.Signals | number): Promise<void> {
    const c = this.resolve(ref);
    await this.locks.run(c.id, async () => {
      const s = await this.state(c.id);
      assertCan(c.name, s.status, 'kill');
      if (c.restartPolicy.name !== 'no') await this.supervisor.userStopped(c.id);
      await this.signal(c.id, signal);
      this.deps.events?.record('kill', c, { signal: String(signal) });
    });
  }

  private async signal(id: string, signal: NodeJS.Signals | number): Promise<void> {
    const rt = await this.store.readRuntime(id);
    if (!rt || !(await isSameProcess(rt.pid, rt.pidStartTime))) return;
    try {
      process.kill(rt.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** SIGTERM, then SIGKILL when the grace time ends. Stopping a stopped container is a no-op. */
  async stop(ref: string, timeoutS: number): Promise<void> {
    const c = this.resolve(ref);
    const status = await this.locks.run(c.id, async () => {
      const s = (await this.state(c.id)).status;
      if (c.restartPolicy.name !== 'no') await this.supervisor.userStopped(c.id);
      if (s === 'running') await this.signal(c.id, 'SIGTERM');
      return s;
    });
    if (status !== 'running') return;
    if (!(await this.waitExit(c.id, timeoutS * 1000))) {
      await this.locks.run(c.id, () => this.signal(c.id, 'SIGKILL'));
      if (!(await this.waitExit(c.id, 10_000))) {
        throw new CorralError('internal', `container ${c.name} did not exit after SIGKILL`);
      }
    }
    this.deps.events?.record('stop', c, { timeout: timeoutS });
  }

  async restart(ref: string, timeoutS: number): Promise<ContainerState> {
    await this.stop(ref, timeoutS);
    const state = await this.start(ref);
    this.deps.events?.record('restart', this.resolve(ref));
    return state;
  }

  /** Wait until the container is not running; returns its final state. */
  async wait(ref: string): Promise<ContainerState> {
    const c = this.resolve(ref);
    while (!(await this.waitExit(c.id, 60_000))) {
      /* keep waiting */
    }
    return this.state(c.id);
  }

  async remove(ref: string, force: boolean): Promise<void> {
    const c = this.resolve(ref);
    const running = await this.locks.run(c.id, async () => {
      const s = (await this.state(c.id)).status;
      if ((s === 'running' || s === 'restarting') && !force) assertCan(c.name, s, 'remove');
      this.supervisor.cancel(c.id);
      if (s === 'running') await this.signal(c.id, 'SIGKILL');
      return s === 'running';
    });
    if (running && !(await this.waitExit(c.id, 10_000))) {
      throw new CorralError('internal', `container ${c.name} did not exit after SIGKILL`);
    }
    await this.locks.run(c.id, async () => {
      if (!this.index.get(c.id)) return; // removed meanwhile (--rm)
      if ((await this.state(c.id)).status === 'running') throw new InvalidStateError(`cannot remove container ${c.name}: it was started again`);
      await this.deps.cgroups.remove(c.id);
      await this.tearDownNetwork(c);
      crashPoint('remove:cgroup-removed');
      await this.destroy(c);
    });
  }

  /**
   * Veths, leases, published ports and the network namespace of a container that is not running.
   * A failure is logged, not thrown: an exit must still be handled; the next corrald start repairs.
   */
  private async tearDownNetwork(c: ContainerConfig, o: { processesMayRemain?: boolean } = {}): Promise<void> {
    await this.net?.tearDown(c, o).catch((err: unknown) => this.deps.log.error('cannot remove the network of a stopped container', { id: c.id, err: String(err) }));
  }

  /** Warnings for the create response (for example about `--network host`). */
  createWarnings(c: ContainerConfig): string[] {
    return this.net?.warnings(c) ?? [];
  }

  private async destroy(c: ContainerConfig): Promise<void> {
    this.health.unwatch(c.id);
    await rm(attachSocketPath(this.deps.paths, c.id), { force: true });
    await this.store.destroy(c.id);
    this.index.delete(c.id);
    await rm(join(exitsDir(this.deps.paths), c.id), { force: true });
    this.deps.log.info('container removed', { id: c.id, name: c.name });
    this.deps.events?.record('destroy', c);
  }

  /** For exec: the running container's PID 1 and its identity. */
  async runtimeOf(ref: string): Promise<{ config: ContainerConfig; pid: number; pidStartTime: number }> {
    const c = this.resolve(ref);
    const s = await this.state(c.id);
    assertCan(c.name, s.status, 'exec');
    const rt = await this.store.readRuntime(c.id);
    if (!rt || s.pid === null) throw new InvalidStateError(`cannot exec in container ${c.name}: it is exiting`);
    return { config: c, pid: rt.pid, pidStartTime: rt.pidStartTime };
  }

  get cgroupDriver(): 'v1' | 'v2' {
    return this.deps.cgroups.driver;
  }

  attachSocket(id: string): string {
    return attachSocketPath(this.deps.paths, id);
  }

  async assertAttachable(id: string): Promise<void> {
    const c = this.index.get(id);
    if (!c) throw new NotFoundError(`no such container: ${id}`);
    assertCan(c.name, (await this.state(id)).status, 'attach');
  }

  /** Resolves once the container is not running and its exit has been handled (or it is gone). */
  async waitSettled(id: string, timeoutMs = 15_000): Promise<void> {
    await this.waitExit(id, timeoutMs);
  }

  /** Change limits in place: a running container keeps its pid; the new values are enforced at once. */
  async update(ref: string, body: unknown): Promise<{ id: string; applied: AppliedSetting[] }> {
    const c = this.resolve(ref);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('update: expected an object');
    // Limits, plus two things a running container can take without a restart: its restart
    // policy and its labels (manifests keep their ownership labels current this way).
    const { restart, labels, ...limitBody } = body as Record<string, unknown>;
    const request = validateLimitRequest(limitBody, false);
    const restartPolicy = restart === undefined ? undefined : parseRestartPolicy(String(restart));
    const newLabels = labels === undefined ? undefined : validateLabels(labels);
    if (Object.keys(request).length === 0 && !restartPolicy && !newLabels) {
      throw new ValidationError('update: name at least one limit to change (e.g. --memory 512m), or --restart');
    }
    this.host ??= await readHostResources();
    const delta = Object.keys(request).length > 0 ? await limitsFromFlags(request, this.host, { defaults: false }) : {};
    return this.locks.run(c.id, async () => {
      const merged: ContainerConfig = {
        ...c,
        limits: mergeLimits(c.limits, delta),
        limitRequest: { ...c.limitRequest, ...request },
        ...(restartPolicy ? { restartPolicy } : {}),
        ...(newLabels ? { labels: newLabels } : {}),
      };
      let applied: AppliedSetting[] = [];
      if (Object.keys(request).length > 0 && (await this.state(c.id)).status === 'running') {
        applied = await this.deps.cgroups.apply(c.id, delta, { ignoreMissing: c.ignoreMissingLimits });
        await this.store.writeApplied(c.id, mergeApplied(await this.store.readApplied(c.id), applied));
      }
      await this.store.writeConfig(merged);
      this.index.add(merged);
      this.deps.log.info('container updated', { id: c.id, name: c.name, request, restart: restartPolicy ? formatRestartPolicy(restartPolicy) : undefined });
      const attrs: Record<string, string> = Object.fromEntries(Object.entries(request).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
      if (restartPolicy) attrs.restart = formatRestartPolicy(restartPolicy);
      if (newLabels) attrs.labels = Object.keys(newLabels).join(',');
      this.deps.events?.record('update', c, attrs);
      return { id: c.id, applied };
    });
  }

  /** Raw counters for `stats`: the cgroup's, and the network namespace's interfaces other than lo. */
  async stats(ref: string): Promise<StatsSample> {
    const c = this.resolve(ref);
    const s = await this.state(c.id);
    if (s.status !== 'running' || s.pid === null) throw new InvalidStateError(`cannot read stats of container ${c.name}: it is not running`);
    const [cgroup, network] = await Promise.all([this.deps.cgroups.stats(c.id), netDev(s.pid)]);
    return { id: c.id, name: c.name, time: new Date().toISOString(), cgroup, network, onlineCpus: availableParallelism() };
  }

  procsFiles(id: string): string[] {
    return this.deps.cgroups.procsFiles(id);
  }
}

function mountsOf(c: ContainerConfig, lower: string[], l: { upper: string; work: string; mountpoint: string }): MountInfo[] {
  const m: MountInfo[] = [
    { type: 'overlay', source: 'overlay', destination: '/', options: [`lowerdir=${lower.join(':')}`, `upperdir=${l.upper}`, `workdir=${l.work}`, 'nodev', ...(c.readOnly ? ['ro'] : [])] },
    { type: 'proc', source: 'proc', destination: '/proc', options: ['nosuid', 'nodev', 'noexec'] },
    { type: 'sysfs', source: 'sysfs', destination: '/sys', options: ['ro', 'nosuid', 'nodev', 'noexec'] },
    { type: 'tmpfs', source: 'tmpfs', destination: '/dev', options: ['nosuid', 'nodev', 'noexec', 'mode=755', 'size=64k'] },
    { type: 'devpts', source: 'devpts', destination: '/dev/pts', options: ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { type: 'tmpfs', source: 'shm', destination: '/dev/shm', options: ['nosuid', 'nodev', 'noexec', 'size=64m'] },
    { type: 'mqueue', source: 'mqueue', destination: '/dev/mqueue', options: ['nosuid', 'nodev', 'noexec'] },
  ];
  for (const v of c.volumes) m.push({ type: 'bind', source: v.source, destination: v.target, options: ['rbind', 'nosuid', 'nodev', v.readOnly ? 'ro' : 'rw'] });
  for (const p of MASKED_PATHS) m.push({ type: 'bind', source: '/dev/null', destination: p, options: ['masked'] });
  for (const p of READONLY_PATHS) m.push({ type: 'bind', source: p, destination: p, options: ['ro'] });
  return m;
}

/** Which limit the OOM killer enforced, in the user's words and the kernel's. */
export function oomMessage(c: ContainerConfig, driver: 'v1' | 'v2'): string {
  const file = driver === 'v2' ? 'memory.max' : 'memory.limit_in_bytes';
  const max = c.limits.memory?.max;
  if (max === undefined || max === 'max') return 'killed by the kernel OOM killer (no memory limit set: the host ran out of memory)';
  const asked = c.limits.requested?.memory ?? `memory ${max}`;
  return `memory limit reached: ${asked} (${file} = ${max} bytes)`;
}

/** rx/tx bytes of a process's network namespace, lo excluded (/proc/PID/net/dev). */
async function netDev(pid: number): Promise<{ rxBytes: number; txBytes: number }> {
  let rxBytes = 0;
  let txBytes = 0;
  const text = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => '');
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name!.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rxBytes += f[0] ?? 0;
    txBytes += f[8] ?? 0;
  }
  return { rxBytes, txBytes };
}
