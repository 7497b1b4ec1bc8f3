import { assertCan } from '../status.js';
import type { Runtime } from './context.js';
import { visibleState } from './inspect.js';

/**
 * Docker's pause and unpause, through the freezer cgroup. A paused container is running as far as
 * the rest of the runtime goes (stop, kill, rm -f, exits); only what users see (`ps`, `inspect`,
 * exec's refusal) says `paused`, read from the kernel each time, so it survives a corrald restart.
 */
export async function pauseContainer(rt: Runtime, ref: string): Promise<void> {
  const c = rt.resolve(ref);
  await rt.locks.run(c.id, async () => {
    assertCan(c.name, (await visibleState(rt, c.id)).status, 'pause');
    await rt.deps.cgroups.freeze(c.id);
    rt.log.info('container paused', { id: c.id, name: c.name });
    rt.deps.events?.record('pause', c);
  });
}

export async function unpauseContainer(rt: Runtime, ref: string): Promise<void> {
  const c = rt.resolve(ref);
  await rt.locks.run(c.id, async () => {
    assertCan(c.name, (await visibleState(rt, c.id)).status, 'unpause');
    await rt.deps.cgroups.thaw(c.id);
    rt.log.info('container unpaused', { id: c.id, name: c.name });
    rt.deps.events?.record('unpause', c);
  });
}

/**
 * After SIGTERM or SIGKILL is sent to a paused container (stop, kill, rm -f): thaw it, as Docker
 * does, so the signal is acted on. The signal goes first, so the program never runs on unsignalled.
 */
export async function thawAfterStopSignal(rt: Runtime, id: string, signal: NodeJS.Signals | number): Promise<void> {
  if (!(signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 9 || signal === 15)) return;
  if (!(await rt.deps.cgroups.frozen(id).catch(() => false))) return;
  await rt.deps.cgroups.thaw(id);
  rt.deps.events?.record('unpause', rt.index.get(id) ?? { id, name: id.slice(0, 12) });
}
