import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exitsDir } from '../../config.js';
import type { Runtime } from './context.js';
import { oomMessage, stateOf } from './inspect.js';
import { releaseRun } from './release.js';
import { destroy } from './remove.js';

/**
 * Exits reach corrald as files in <run-root>/exits (the monitor writes one after exit.json), so
 * exits that happened while corrald was away are collected the same way as live ones.
 */
export async function collectExits(rt: Runtime): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(exitsDir(rt.deps.paths));
  } catch {
    return;
  }
  for (const id of names.filter((n) => /^[0-9a-f]{64}$/.test(n))) {
    await rt.locks.run(id, () => handleExit(rt, id)).catch((err) => rt.log.error('handling exit failed', { id, err: String(err) }));
  }
}

export async function pendingExit(rt: Runtime, id: string): Promise<boolean> {
  return readdir(exitsDir(rt.deps.paths)).then((n) => n.includes(id), () => false);
}

/** Must run under the container's lock. Idempotent: acts only while the notification exists. */
export async function handleExit(rt: Runtime, id: string): Promise<void> {
  const notify = join(exitsDir(rt.deps.paths), id);
  if (!existsSync(notify)) return;
  const config = rt.index.get(id);
  if (config) {
    const state = await stateOf(rt, id);
    if (state.status === 'running') return; // from an earlier run; the current one is alive
    rt.health.unwatch(id);
    const kills = await rt.deps.cgroups.oomKills(id).catch(() => 0);
    if (kills > 0) {
      const message = oomMessage(config, rt.deps.cgroups.driver);
      await rt.store.writeOom(id, { kills, message });
      rt.log.warn('container OOM-killed', { id, name: config.name, oomKills: kills, message });
      rt.deps.events?.record('oom', config, { oomKills: kills, message });
    }
    await releaseRun(rt, config);
    const stopping = (await rt.store.readStop(id)) !== undefined;
    // A stop that was under way is seen through by this exit.
    await rt.store.clearStop(id);
    rt.log.info('container exited', { id, name: config.name, exitCode: state.exitCode, error: state.error });
    rt.deps.events?.record('die', config, { exitCode: state.exitCode, signal: state.signal, oomKilled: kills > 0, error: state.error });
    const boot = config.boot ? bootExit(state.signal, stopping) : 'other';
    if (boot === 'reboot') {
      rt.log.info('system container rebooted itself: starting it again', { id, name: config.name });
      rt.supervisor.reboot(id);
    } else if (config.autoRemove) await destroy(rt, config);
    // The state read above already has what the policy decides on (exit code and times); a
    // system container that powered itself off stopped cleanly.
    else await rt.supervisor.onExit(config, boot === 'poweroff' ? { ...state, exitCode: 0 } : state);
  }
  await rm(notify, { force: true });
  rt.exits.emit(`exit:${id}`);
}

/**
 * Resolves true once the container is not running (and its exit has been handled), false when
 * `timeoutMs` passes first. Only for grace periods the user chose (stop's timeout): the kernel's
 * word on a killed container is awaited with waitGone, which has no deadline.
 */
export function waitExit(rt: Runtime, id: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    let poll: NodeJS.Timeout | undefined;
    const finish = (v: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(poll);
      rt.exits.off(`exit:${id}`, onExit);
      resolve(v);
    };
    const onExit = (): void => finish(true);
    // Polling backs off (an exit notification wakes us at once anyway): cheap with many waiters.
    let delay = 20;
    const check = async (): Promise<void> => {
      if (done) return;
      if (!rt.index.get(id)) return finish(true);
      if ((await stateOf(rt, id)).status !== 'running') {
        await collectExits(rt);
        return finish(true);
      }
      delay = Math.min(delay * 2, 500);
      poll = setTimeout(() => void check(), delay);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    rt.exits.on(`exit:${id}`, onExit);
    void check();
  });
}

/**
 * After SIGKILL: wait until the kernel says the container is gone (its PID 1 and its monitor no
 * longer exist), however long a loaded machine takes. A slow exit is logged, never turned into an
 * error that leaves the container half-removed.
 */
export async function waitGone(rt: Runtime, id: string, what: string): Promise<void> {
  const started = Date.now();
  let warned = 0;
  while (!(await waitExit(rt, id, 10_000))) {
    const waited = Math.round((Date.now() - started) / 1000);
    if (waited - warned >= 30) {
      warned = waited;
      rt.log.warn(`still waiting for a killed container to exit (${what})`, { id, waitedS: waited });
    }
  }
}

/**
 * How a system container's init ended. In a pid namespace reboot(2) does not reboot: the kernel
 * kills the namespace's init with SIGHUP for a restart and SIGINT for a halt or power-off
 * (pid_namespaces(7)). A SIGHUP while corral stops it counts as stopped.
 */
export function bootExit(signal: number | null, stopping: boolean): 'reboot' | 'poweroff' | 'other' {
  if (signal === 1) return stopping ? 'poweroff' : 'reboot';
  if (signal === 2) return 'poweroff';
  return 'other';
}
