import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exitsDir } from '../../config.js';
import type { Runtime } from './context.js';
import { collectExits } from './exits.js';
import { stateOf } from './inspect.js';
import { releaseRun } from './release.js';
import { resumeStop } from './stop.js';

/**
 * corrald's start: load committed containers, finish interrupted creates and removes, quarantine
 * what cannot be read, collect the exits that happened while it was away, repair networks and
 * cgroups, and take up restart policies, health checks and stops where the last corrald left them.
 */
export async function recover(rt: Runtime): Promise<void> {
  await mkdir(exitsDir(rt.deps.paths), { recursive: true, mode: 0o700 });
  await mkdir(join(rt.deps.paths.runRoot, 'a'), { recursive: true, mode: 0o700 });
  for (const trash of await rt.store.listTrash()) await rm(trash, { recursive: true, force: true });
  await loadContainers(rt);
  const live = new Map<string, number | undefined>(rt.index.all().map((c) => [c.id, c.userns.mode === 'private' ? c.userns.uidBase : undefined]));
  for (const id of rt.broken.keys()) live.set(id, undefined);
  const freed = await rt.idmap.reconcile(live);
  if (freed.length > 0) rt.log.warn('freed user namespace ranges of containers that no longer exist', { ids: freed });
  await collectExits(rt);
  const running = new Set<string>();
  for (const c of rt.index.all()) if ((await stateOf(rt, c.id)).status === 'running') running.add(c.id);
  if (rt.net) await rt.net.init(running);
  await removeOrphans(rt, running);
  for (const done of await rt.disks.repair(running)) rt.log.warn('disk of a container that is not running released', { done });
  await resumePolicies(rt);
  for (const c of rt.index.all()) {
    if (!c.healthcheck || !running.has(c.id)) continue;
    const s = await stateOf(rt, c.id);
    if (s.status === 'running') await rt.health.watch(c, Date.parse(s.startedAt ?? new Date().toISOString()), false);
  }
  // Stops run on in the background: corrald serves while their grace times run out.
  for (const id of running) void resumeStop(rt, id).catch((err: unknown) => rt.log.error('cannot finish an interrupted stop', { id, err: String(err) }));
}

async function loadContainers(rt: Runtime): Promise<void> {
  for (const id of await rt.store.listIds()) {
    const stored = await rt.store.readStored(id);
    if (stored.kind === 'ok') {
      rt.index.add(stored.config);
    } else if (stored.kind === 'uncommitted') {
      rt.log.warn('removing a container whose create never finished', { id });
      await rt.deps.cgroups.remove(id).catch(() => {});
      await rt.store.destroy(id);
    } else {
      // Never deleted on our own: its files may be all a user has. `ps -a` lists it, `rm` removes it.
      rt.broken.set(id, stored.reason);
      rt.log.error('container quarantined: its config cannot be read', { id, reason: stored.reason });
    }
  }
}

/**
 * What an interrupted operation can leave: a cgroup of no container (or of one not running, from
 * a start cut short — with processes still in it, which are killed: they run untracked), an attach
 * socket of no container. Removed at every daemon start. A broken container's cgroup is its own.
 */
async function removeOrphans(rt: Runtime, running: Set<string>): Promise<void> {
  for (const id of await rt.deps.cgroups.list()) {
    if (running.has(id) || rt.broken.has(id)) continue;
    rt.log.warn('removing a cgroup left by an interrupted operation', { id });
    await releaseRun(rt, { id, name: id.slice(0, 12) });
  }
  const sockets = join(rt.deps.paths.runRoot, 'a');
  const live = new Set([...rt.index.all().map((c) => c.id), ...rt.broken.keys()].map((id) => `${id.slice(0, 12)}.sock`));
  for (const f of await readdir(sockets).catch(() => [] as string[])) {
    if (!live.has(f)) await rm(join(sockets, f), { force: true });
  }
}

/**
 * After a daemon restart or a reboot: every container whose policy wants it running gets its
 * decision (once per run) or its pending restart back. `always` comes back even if the user had
 * stopped it (Docker's rule); `unless-stopped` does not.
 */
async function resumePolicies(rt: Runtime): Promise<void> {
  for (const c of rt.index.all()) {
    if (c.restartPolicy.name === 'no' || c.autoRemove) continue;
    const s = await stateOf(rt, c.id);
    if (s.status === 'running' || s.status === 'created') continue;
    const rs = await rt.store.readPolicy(c.id);
    if (c.restartPolicy.name === 'always' && rs.userStopped) {
      await rt.store.writePolicy(c.id, { ...rs, userStopped: false, decidedRun: null });
    }
    await rt.supervisor.onExit(c, s);
  }
}
