import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig } from '../../api/types.js';
import { attachSocketPath, exitsDir } from '../../config.js';
import { CorralError, InvalidStateError, NotFoundError } from '../../errors.js';
import { crashPoint } from '../../util/crash.js';
import { assertCan } from '../status.js';
import type { Runtime } from './context.js';
import { waitGone } from './exits.js';
import { stateOf } from './inspect.js';
import { releaseRun } from './release.js';
import { signalPid1 } from './stop.js';

/** `rm [-f]`: a running container is SIGKILLed (with force) and removed once the kernel says it is gone. */
export async function removeContainer(rt: Runtime, ref: string, force: boolean): Promise<void> {
  const brokenId = resolveBroken(rt, ref);
  if (brokenId) return removeBroken(rt, brokenId);
  const c = rt.resolve(ref);
  const running = await rt.locks.run(c.id, async () => {
    const s = (await stateOf(rt, c.id)).status;
    if ((s === 'running' || s === 'restarting') && !force) assertCan(c.name, s, 'remove');
    rt.supervisor.cancel(c.id);
    if (s === 'running') await signalPid1(rt, c.id, 'SIGKILL');
    return s === 'running';
  });
  if (running) await waitGone(rt, c.id, `rm -f ${c.name}`);
  await rt.locks.run(c.id, async () => {
    if (!rt.index.get(c.id)) return; // removed meanwhile (--rm)
    if ((await stateOf(rt, c.id)).status === 'running') throw new InvalidStateError(`cannot remove container ${c.name}: it was started again`);
    const errors = await releaseRun(rt, c);
    if (errors.length > 0) throw new CorralError('internal', `remove container ${c.name}: ${errors.join('; ')} (the container is kept: run rm again)`, { id: c.id });
    crashPoint('remove:cgroup-removed');
    await destroy(rt, c);
  });
}

/** Forget a container: its attach socket, its directory (renamed away first), its index entry. */
export async function destroy(rt: Runtime, c: ContainerConfig): Promise<void> {
  rt.health.unwatch(c.id);
  await rm(attachSocketPath(rt.deps.paths, c.id), { force: true });
  await rt.store.destroy(c.id);
  // Only once nothing of the container is left may its id range serve another.
  await rt.idmap.release(c.id);
  rt.index.delete(c.id);
  await rm(join(exitsDir(rt.deps.paths), c.id), { force: true });
  rt.log.info('container removed', { id: c.id, name: c.name });
  rt.deps.events?.record('destroy', c);
}

/** A quarantined container is named by its id or a unique prefix of it (its name is unknown). */
function resolveBroken(rt: Runtime, ref: string): string | undefined {
  if (!/^[0-9a-f]+$/.test(ref) || rt.broken.size === 0) return undefined;
  const hits = [...rt.broken.keys()].filter((id) => id.startsWith(ref));
  if (hits.length !== 1) return undefined;
  // An id prefix that also names a healthy container is ambiguous: let the index say so.
  try {
    rt.index.resolve(ref);
    return undefined;
  } catch (err) {
    return err instanceof NotFoundError ? hits[0] : undefined;
  }
}

async function removeBroken(rt: Runtime, id: string): Promise<void> {
  await rt.locks.run(id, async () => {
    if (!rt.broken.has(id)) return;
    const errors = await releaseRun(rt, { id, name: id.slice(0, 12) });
    if (errors.length > 0) throw new CorralError('internal', `remove container ${id.slice(0, 12)}: ${errors.join('; ')}`, { id });
    await rm(attachSocketPath(rt.deps.paths, id), { force: true });
    await rt.store.destroy(id);
    await rt.idmap.release(id);
    rt.broken.delete(id);
    rt.log.info('broken container removed', { id });
  });
}
