import type { ContainerState } from '../api/types.js';
import { isSameProcess } from '../system/procfs.js';
import type { ExitRecord, RuntimeRecord } from './store.js';

/**
 * Status comes from the kernel: a container is running while the pid its monitor recorded is alive
 * with the same start time. The files are a cache of what the monitor saw.
 */
export async function deriveState(runtime: RuntimeRecord | undefined, exit: ExitRecord | undefined, procRoot = '/proc'): Promise<ContainerState> {
  const base: ContainerState = { status: 'created', pid: null, monitorPid: null, exitCode: null, signal: null, error: null, startedAt: null, finishedAt: null };
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
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt ?? new Date(now).toISOString()))}`;
    case 'exited': {
      const ago = s.finishedAt ? ` ${humanDuration(now - Date.parse(s.finishedAt))} ago` : '';
      return `Exited (${s.exitCode ?? -1})${ago}`;
    }
  }
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return s === 1 ? '1 second' : `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.floor(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  const d = Math.floor(h / 24);
  return d < 14 ? `${d} days` : `${Math.floor(d / 7)} weeks`;
}
