import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { ContainerConfig, ContainerInspect, ContainerState, ContainerSummary, StatsSample } from '../../api/types.js';
import { InvalidStateError } from '../../errors.js';
import { mountPlan } from '../../rootfs/mount-plan.js';
import { FUSE_LXCFS, LXCFS_FILES, lxcfsMountpoint } from '../../system/lxcfs.js';
import { readMountinfo } from '../../system/mountinfo.js';
import { deriveState, statusText } from '../state.js';
import { assertCan } from '../status.js';
import type { Runtime } from './context.js';

/** Which limit the OOM killer enforced, in the user's words and the kernel's. */
export function oomMessage(c: ContainerConfig, driver: 'v1' | 'v2'): string {
  const file = driver === 'v2' ? 'memory.max' : 'memory.limit_in_bytes';
  const max = c.limits.memory?.max;
  if (max === undefined || max === 'max') return 'killed by the kernel OOM killer (no memory limit set: the host ran out of memory)';
  const asked = c.limits.requested?.memory ?? `memory ${max}`;
  return `memory limit reached: ${asked} (${file} = ${max} bytes)`;
}

/** A container's state, derived from the kernel; the files are caches of what the monitor saw. */
export async function stateOf(rt: Runtime, id: string): Promise<ContainerState> {
  const [runtime, exit, saved] = await Promise.all([rt.store.readRuntime(id), rt.store.readExit(id), rt.store.readOom(id)]);
  const c = rt.index.get(id);
  // After an exit the count was saved before the cgroup went; while running it is live.
  let oom = saved;
  if (!oom && runtime && !exit) {
    const kills = await rt.deps.cgroups.oomKills(id).catch(() => 0);
    oom = { kills, message: kills > 0 && c ? oomMessage(c, rt.deps.cgroups.driver) : null };
  }
  const s = await deriveState(runtime, exit, rt.processes.procRoot, oom ?? undefined);
  if (c?.healthcheck && s.status !== 'created') s.health = (await rt.store.readHealth(id)) ?? null;
  if (c && c.restartPolicy.name !== 'no') {
    const rs = await rt.store.readPolicy(id);
    s.restartCount = rs.restartCount;
    if (s.status === 'exited' && rt.supervisor.pending(id) && rs.nextRestartAt !== null) {
      s.status = 'restarting';
      s.nextRestartAt = new Date(rs.nextRestartAt).toISOString();
    }
  }
  return s;
}

/** The state users see (pause.ts): `paused` when the kernel reports a running container's cgroup frozen. */
export async function visibleState(rt: Runtime, id: string): Promise<ContainerState> {
  const s = await stateOf(rt, id);
  return pausedView(rt, id, s);
}

export async function pausedView(rt: Runtime, id: string, s: ContainerState): Promise<ContainerState> {
  if (s.status !== 'running') return s;
  // A cgroup that is already gone (the container is exiting) is not frozen.
  const frozen = await rt.deps.cgroups.frozen(id).catch(() => false);
  return frozen ? { ...s, status: 'paused' } : s;
}

export async function listContainers(rt: Runtime, all: boolean): Promise<ContainerSummary[]> {
  // One state read per container, all at once: each is a few small files and /proc reads.
  const rows = await Promise.all(
    rt.index.all().map(async (c): Promise<ContainerSummary | undefined> => {
      const s = await visibleState(rt, c.id);
      // Docker's `ps` lists paused containers with the running ones.
      if (!all && s.status !== 'running' && s.status !== 'paused') return undefined;
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
        labels: c.labels,
        ...(rt.net?.summary(c, s.status === 'running' || s.status === 'paused') ?? { networkMode: c.network.mode, networks: [], ports: [] }),
      };
    }),
  );
  const broken = all ? [...rt.broken].map(([id, reason]) => brokenSummary(id, reason)) : [];
  return [...broken, ...rows.filter((r): r is ContainerSummary => r !== undefined).sort((a, b) => b.createdAt.localeCompare(a.createdAt))];
}

/** A quarantined container as `ps -a` lists it: its id, and why it cannot be used. */
function brokenSummary(id: string, reason: string): ContainerSummary {
  return {
    id, name: id.slice(0, 12), template: '', command: [], status: 'broken', statusText: `Broken: ${reason}`, exitCode: null, pid: null,
    createdAt: '', startedAt: null, finishedAt: null, manifest: null, labels: {}, networkMode: 'none', networks: [], ports: [],
  };
}

export async function inspectContainer(rt: Runtime, ref: string): Promise<ContainerInspect> {
  const c = rt.resolve(ref);
  const layout = rt.store.layout(c.id, c);
  const lower = await rt.deps.templates.resolve(c.template).then((t) => t.layers, () => []);
  const state = await visibleState(rt, c.id);
  return {
    id: c.id,
    name: c.name,
    config: c,
    state,
    networkSettings: rt.net?.settings(c, state.status === 'running' || state.status === 'paused') ?? {
      mode: c.network.mode, networks: {}, ipAddress: null, gateway: null, macAddress: null, ports: [], sandboxKey: null, warnings: [],
    },
    rootfs: { lower, upper: layout.upper, work: layout.work, mountpoint: layout.mountpoint },
    mounts: mountPlan(c, lower, layout, state.status === 'running' && state.pid !== null ? await lxcfsBound(rt, state.pid) : []),
    storage: c.storage ? rt.disks.describe(rt.store.dir(c.id), c.storage) : null,
    cgroup: { driver: rt.deps.cgroups.driver, paths: rt.deps.cgroups.paths(c.id), processes: rt.deps.cgroups.processPaths(c.id) },
    limits: await rt.store.readApplied(c.id),
    logPath: rt.store.file(c.id, 'container.log'),
  };
}

/** The LXCFS files bound in a running container, from its mountinfo. */
async function lxcfsBound(rt: Runtime, pid: number): Promise<{ source: string; target: string }[]> {
  const mnt = lxcfsMountpoint(rt.deps.paths);
  return (await readMountinfo(pid, rt.processes.procRoot))
    .filter((e) => e.fsType === FUSE_LXCFS && (LXCFS_FILES as readonly string[]).includes(e.mountPoint))
    .map((e) => ({ source: `${mnt}${e.root}`, target: e.mountPoint }));
}

/** Raw counters for `stats`: the cgroup's, and the network namespace's interfaces other than lo. */
export async function statsOf(rt: Runtime, ref: string): Promise<StatsSample> {
  const c = rt.resolve(ref);
  const s = await stateOf(rt, c.id);
  if (s.status !== 'running' || s.pid === null) throw new InvalidStateError(`cannot read stats of container ${c.name}: it is not running`);
  const [cgroup, network] = await Promise.all([rt.deps.cgroups.stats(c.id), netDev(s.pid)]);
  return { id: c.id, name: c.name, time: new Date().toISOString(), cgroup, network, onlineCpus: availableParallelism() };
}

/** For exec: the running container's PID 1 and its identity. */
export async function runtimeOf(rt: Runtime, ref: string): Promise<{ config: ContainerConfig; pid: number; pidStartTime: number }> {
  const c = rt.resolve(ref);
  const s = await visibleState(rt, c.id);
  assertCan(c.name, s.status, 'exec');
  const r = await rt.store.readRuntime(c.id);
  if (!r || s.pid === null) throw new InvalidStateError(`cannot exec in container ${c.name}: it is exiting`);
  return { config: c, pid: r.pid, pidStartTime: r.pidStartTime };
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
