import { CgroupError, isErrno } from '../errors.js';
import { cgroupError } from './write.js';
import { collectPids, sleep } from './tree.js';

export interface KillOptions {
  sendSignal?: ((pid: number, signal: NodeJS.Signals) => void) | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Signal every process in `dirs` (nested cgroups included). SIGKILL is repeated until the cgroups
 * are empty, catching children forked meanwhile; an exited process (zombie) is no longer listed in
 * cgroup.procs. Other signals are sent once, to the processes present now.
 */
export async function signalCgroup(dirs: readonly string[], signal: NodeJS.Signals, opts: KillOptions = {}): Promise<void> {
  const send = opts.sendSignal ?? ((pid, sig) => process.kill(pid, sig));
  const timeoutMs = opts.timeoutMs ?? 2000;
  const deadline = Date.now() + timeoutMs;
  const where = dirs[0] ?? '(no cgroup)';
  for (let round = 0; ; round++) {
    const pids = await collectPids(dirs);
    if (pids.length === 0) return;
    if (round > 0 && Date.now() >= deadline) {
      throw new CgroupError(`kill -${signal}`, where, `processes still present after ${timeoutMs} ms: ${pids.join(' ')}`);
    }
    for (const pid of pids) {
      try {
        send(pid, signal);
      } catch (err) {
        if (!isErrno(err, 'ESRCH')) throw cgroupError(`kill -${signal} ${pid} in`, where, err);
      }
    }
    if (signal !== 'SIGKILL') return;
    await sleep(10);
  }
}
