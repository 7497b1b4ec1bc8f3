import type { ContainerState } from '../../api/types.js';
import { crashPoint } from '../../util/crash.js';
import { assertCan } from '../status.js';
import type { Runtime } from './context.js';
import { waitExit, waitGone } from './exits.js';
import { stateOf } from './inspect.js';
import { thawAfterStopSignal } from './pause.js';
import { stopSignalValue } from '../stop-signal.js';

/** Signal the container's PID 1 if it is still the process its monitor recorded. */
export async function signalPid1(rt: Runtime, id: string, signal: NodeJS.Signals | number): Promise<void> {
  const r = await rt.store.readRuntime(id);
  if (!r || !(await rt.processes.isAlive(r.pid, r.pidStartTime))) return;
  rt.processes.signal(r.pid, signal);
  await thawAfterStopSignal(rt, id, signal);
}

export async function killContainer(rt: Runtime, ref: string, signal: NodeJS.Signals | number): Promise<void> {
  const c = rt.resolve(ref);
  await rt.locks.run(c.id, async () => {
    const s = await stateOf(rt, c.id);
    assertCan(c.name, s.status, 'kill');
    if (c.restartPolicy.name !== 'no') await rt.supervisor.userStopped(c.id);
    await signalPid1(rt, c.id, signal);
    rt.deps.events?.record('kill', c, { signal: String(signal) });
  });
}

/**
 * The container's stop signal (SIGTERM unless --stop-signal or --boot chose another), then
 * SIGKILL when the grace time ends. Stopping a stopped container is a no-op. The
 * request is written down before the first signal, so a corrald that dies meanwhile leaves it for
 * the next one to finish (resumeStop) instead of a container that runs on.
 */
export async function stopContainer(rt: Runtime, ref: string, timeoutS: number): Promise<void> {
  const c = rt.resolve(ref);
  const status = await rt.locks.run(c.id, async () => {
    const s = (await stateOf(rt, c.id)).status;
    if (c.restartPolicy.name !== 'no') await rt.supervisor.userStopped(c.id);
    if (s !== 'running') return s;
    await rt.store.writeStop(c.id, { requestedAt: new Date().toISOString(), killAt: Date.now() + timeoutS * 1000 });
    crashPoint('stop:requested');
    await signalPid1(rt, c.id, stopSignalValue(c.stopSignal));
    return s;
  });
  if (status !== 'running') return;
  await finishStop(rt, c.id, c.name, timeoutS * 1000);
  rt.deps.events?.record('stop', c, { timeout: timeoutS });
}

async function finishStop(rt: Runtime, id: string, name: string, graceMs: number): Promise<void> {
  if (await waitExit(rt, id, Math.max(0, graceMs))) return;
  await rt.locks.run(id, () => signalPid1(rt, id, 'SIGKILL'));
  await waitGone(rt, id, `stop ${name}`);
}

/**
 * At corrald start: a stop that an earlier corrald recorded and did not see through. Its grace
 * time runs on from when it was asked for; a container that exited meanwhile needs nothing.
 */
export async function resumeStop(rt: Runtime, id: string): Promise<void> {
  const req = await rt.store.readStop(id);
  const c = rt.index.get(id);
  if (!req || !c) return;
  if ((await stateOf(rt, id)).status !== 'running') {
    await rt.store.clearStop(id);
    return;
  }
  rt.log.info('finishing a stop an earlier corrald did not see through', { id, name: c.name, requestedAt: req.requestedAt });
  // The stop signal again: the earlier corrald may have died before sending it.
  await rt.locks.run(id, () => signalPid1(rt, id, stopSignalValue(c.stopSignal)));
  await finishStop(rt, id, c.name, req.killAt - Date.now());
  rt.deps.events?.record('stop', c, { resumed: true });
}

/** Wait until the container is not running; returns its final state. */
export async function waitContainer(rt: Runtime, ref: string): Promise<ContainerState> {
  const c = rt.resolve(ref);
  while (!(await waitExit(rt, c.id, 60_000))) {
    /* keep waiting */
  }
  return stateOf(rt, c.id);
}
