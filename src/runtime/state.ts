import type { ContainerState } from '../api/types.js';
import { isSameProcess } from '../system/procfs.js';
import { describeStatus } from '../util/duration.js';
import type { ExitRecord, RuntimeRecord } from './store.js';

/**
 * Status comes from the kernel: a container is running while the pid its monitor recorded is alive
 * with the same start time. The files are a cache of what the monitor saw.
 */
export interface OomInfo {
  kills: number;
  message: string | null;
}

export async function deriveState(runtime: RuntimeRecord | undefined, exit: ExitRecord | undefined, procRoot = '/proc', oom: OomInfo = { kills: 0, message: null }): Promise<ContainerState> {
  const base: ContainerState = {
    status: 'created', pid: null, monitorPid: null, exitCode: null, signal: null, error: null, startedAt: null, finishedAt: null,
    oomKilled: oom.kills > 0, oomKills: oom.kills, oomMessage: oom.kills > 0 ? oom.message : null,
    restartCount: 0, nextRestartAt: null, health: null,
  };
  if (exit) {
    return {
      ...base,
      status: 'exited',
      exitCode: exit.exitCode,
      signal: exit.signal,
      error: exit.error,
      startedAt: runtime?.startedAt ?? null,
      finishedAt: exit.finishedAt,
    };
  }
  if (!runtime) return base;
  if (await isSameProcess(runtime.pid, runtime.pidStartTime, procRoot)) {
    return { ...base, status: 'running', pid: runtime.pid, monitorPid: runtime.monitorPid, startedAt: runtime.startedAt };
  }
  if (await isSameProcess(runtime.monitorPid, runtime.monitorStartTime, procRoot)) {
    // PID 1 is gone and its monitor is writing the exit record right now.
    return { ...base, status: 'running', pid: null, monitorPid: runtime.monitorPid, startedAt: runtime.startedAt };
  }
  return {
    ...base,
    status: 'exited',
    exitCode: -1,
    error: 'the container and its monitor are gone without an exit record (host reboot or monitor killed)',
    startedAt: runtime.startedAt,
  };
}

/** Docker-style human status. */
export function statusText(s: ContainerState, now = Date.now()): string {
  return describeStatus(s, now);
}
