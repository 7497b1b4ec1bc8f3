import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ContainerConfig, ContainerState } from '../../api/types.js';
import type { AppliedSetting } from '../../cgroups/limits.js';
import { attachSocketPath, exitsDir } from '../../config.js';
import { CorralError, NotFoundError } from '../../errors.js';
import { startArgv } from '../../namespaces/argv.js';
import { crashPoint } from '../../util/crash.js';
import { PhaseTimer } from '../../util/phase-timer.js';
import { hostRootIds } from '../../security/userns.js';
import { etcBinds } from '../etc-files.js';
import type { SpawnedMonitor } from '../shim.js';
import { assertCan } from '../status.js';
import type { Runtime, StartOptions } from './context.js';
import { handleExit, pendingExit } from './exits.js';
import { stateOf } from './inspect.js';
import { releaseRun } from './release.js';
import { destroy } from './remove.js';

export async function startContainer(rt: Runtime, ref: string, opts: StartOptions = {}): Promise<ContainerState> {
  const c = rt.resolve(ref);
  return rt.locks.run(c.id, async () => {
    const t0 = performance.now();
    // The pending-exit check and the current state are independent reads: do them at once.
    const [pending, before] = await Promise.all([pendingExit(rt, c.id), stateOf(rt, c.id)]);
    if (pending) await handleExit(rt, c.id);
    if (!rt.index.get(c.id)) throw new NotFoundError(`no such container: ${ref}`);
    const now = pending ? await stateOf(rt, c.id) : before;
    // Docker's `start` of a running container does nothing and succeeds (its API answers 304).
    if (now.status === 'running' && !opts.attach) return now;
    assertCan(c.name, now.status, 'start');
    if (c.restartPolicy.name !== 'no') await rt.supervisor.userStarted(c.id);
    const checksMs = Math.round((performance.now() - t0) * 100) / 100;
    try {
      return await startLocked(rt, c, { ...opts, checksMs });
    } catch (err) {
      // `run --rm` that never got going leaves nothing behind (an exec failure is removed by
      // the exit path, which the monitor's exit record triggers).
      if (c.autoRemove && !(await pendingExit(rt, c.id)) && (await stateOf(rt, c.id)).status !== 'running') {
        await releaseRun(rt, c);
        await destroy(rt, c).catch(() => {});
      }
      throw err;
    }
  });
}

/** The start proper; the caller holds the container's lock. Fails leaving nothing running. */
export async function startLocked(rt: Runtime, c: ContainerConfig, opts: StartOptions): Promise<ContainerState> {
  const t = new PhaseTimer();
  if (opts.checksMs !== undefined) t.phases.checks = opts.checksMs;
  const template = await rt.deps.templates.resolve(c.template);
  t.mark('template');
  const socket = attachSocketPath(rt.deps.paths, c.id);
  // The last run's records and socket go while the network and cgroup are made (start is hot).
  const cleared = Promise.all([rt.store.clearRun(c.id), rm(socket, { force: true })]);
  cleared.catch(() => {});
  // Corral's own subtree is set up once per daemon (again only if that failed).
  rt.parentReady ??= rt.deps.cgroups.ensureParent().catch((err: unknown) => {
    rt.parentReady = undefined;
    throw err;
  });
  await rt.parentReady;
  // The network first, then the cgroup, right before the monitor that joins it.
  let namespaces: readonly string[] | undefined;
  let applied: AppliedSetting[];
  try {
    if (rt.net) {
      namespaces = await rt.net.setUp(c);
      t.mark('network');
    }
    const devices = await rt.deps.cgroups.create(c.id);
    crashPoint('start:cgroup-created');
    applied = [...devices, ...(await rt.deps.cgroups.apply(c.id, c.limits, { ignoreMissing: c.ignoreMissingLimits }))];
    // A system container's init manages its own cgroups, beneath the limits just written.
    if (c.boot) {
      const root = hostRootIds(c);
      await rt.deps.cgroups.delegate(c.id, root.uid, root.gid);
    }
    if (c.storage) await rt.disks.attach(rt.store.dir(c.id), c.storage, hostRootIds(c));
    await cleared;
  } catch (err) {
    await releaseRun(rt, c);
    throw err;
  }
  t.mark('cgroup');
  // What the kernel got is written while the monitor starts the container.
  const appliedWritten = rt.store.writeApplied(c.id, applied);
  appliedWritten.catch(() => {});
  const lxcfs = (await rt.deps.lxcfs?.bindsFor(c)) ?? [];
  const argv = startArgv(
    {
      shim: rt.deps.shim,
      id: c.id,
      stateDir: rt.store.dir(c.id),
      logFile: rt.store.file(c.id, 'container.log'),
      socket,
      exitNotify: join(exitsDir(rt.deps.paths), c.id),
      cgroupProcs: rt.deps.cgroups.procsFiles(c.id),
      tty: c.tty,
      stdin: c.interactive,
      waitAttach: opts.attach !== undefined,
    },
    c,
    { lower: template.layers, ...rt.store.layout(c.id, c) },
    [...etcBinds(rt.store, c), ...lxcfs],
    rt.deps.unshare,
    namespaces,
  );
  const monitor = rt.processes.spawnMonitor(rt.deps.shim, argv, rt.store.file(c.id, 'monitor.log'));
  crashPoint('start:monitor-spawned');
  t.mark('spawn');
  let started: { pid: number; startTime: number } | undefined;
  try {
    let report = await monitor.next();
    t.mark('report');
    if (report.kind === 'ready') {
      await opts.attach!(socket);
      report = await monitor.next();
    }
    if (report.kind === 'failed') {
      // The monitor has written exit.json; clean up what start made.
      await releaseRun(rt, c);
      throw new CorralError('command_failed', report.message, { exitCode: report.code, id: c.id });
    }
    if (report.kind !== 'started') throw new CorralError('internal', `corral-shim monitor: unexpected report ${report.kind}`);
    started = report;
    // Until this is on disk the run is not fully recorded: a start that fails here must not
    // leave the program running untracked (a full disk hits limits.json first).
    await appliedWritten;
  } catch (err) {
    if (!(err instanceof CorralError && err.code === 'command_failed')) await abandonRun(rt, c, monitor, started !== undefined);
    throw err;
  } finally {
    monitor.release();
  }
  const state: ContainerState = {
    status: 'running', pid: started!.pid, monitorPid: monitor.child.pid ?? null, exitCode: null, signal: null, error: null,
    startedAt: new Date().toISOString(), finishedAt: null, oomKilled: false, oomKills: 0, oomMessage: null,
    restartCount: c.restartPolicy.name === 'no' ? 0 : (await rt.store.readPolicy(c.id)).restartCount, nextRestartAt: null, health: null,
  };
  if (c.healthcheck) {
    await rt.health.watch(c, Date.now(), true);
    state.health = { status: 'starting', failingStreak: 0, log: [] };
  }
  t.mark('state');
  rt.log.info('container started', { id: c.id, name: c.name, phasesMs: t.phases });
  rt.deps.events?.record('start', c, { pid: state.pid });
  return state;
}

/**
 * A start failed after the monitor was spawned: kill everything the run made and wait for the
 * kernel to confirm, then release the cgroup and network. Once PID 1 runs, its processes are all
 * in its cgroup and the monitor records the kill (137) and exits; before that, the monitor's
 * process group holds whatever exists of the container.
 */
async function abandonRun(rt: Runtime, c: ContainerConfig, monitor: SpawnedMonitor, launched: boolean): Promise<void> {
  const monitorGone = new Promise<void>((resolve) => {
    if (monitor.child.exitCode !== null || monitor.child.signalCode !== null) resolve();
    else monitor.child.once('exit', () => resolve());
  });
  if (!launched && monitor.child.pid !== undefined) rt.processes.signal(-monitor.child.pid, 'SIGKILL');
  await rt.deps.cgroups.kill(c.id, 'SIGKILL').catch((err: unknown) => rt.log.warn('cannot kill an abandoned start', { id: c.id, err: String(err) }));
  await monitorGone;
  rt.log.warn('start failed after the monitor was spawned: what it launched was killed', { id: c.id, name: c.name, launched });
  await releaseRun(rt, c, { processesMayRemain: true });
}
