import type { ContainerConfig } from '../../api/types.js';
import type { Runtime } from './context.js';

/**
 * The one teardown of a run: the container's cgroup (whatever is still in it is killed first —
 * it is ours, and a cgroup with processes cannot go), then its network, then its disk's mount. Used by the exit path, a
 * failed start, `rm` and start-up repair alike. Never throws: every step is tried, failures are
 * logged and returned, and the caller decides what a failure means (rm keeps the container so it
 * can be retried; an exit is still an exit). Idempotent.
 */
export async function releaseRun(rt: Runtime, c: Pick<ContainerConfig, 'id' | 'name'> & Partial<ContainerConfig>, o: { processesMayRemain?: boolean } = {}): Promise<string[]> {
  const errors: string[] = [];
  const cgroupError = await removeCgroup(rt, c.id);
  if (cgroupError) errors.push(cgroupError);
  if (rt.net && c.network) {
    await rt.net.tearDown(c as ContainerConfig, o).catch((err: unknown) => errors.push(`network: ${String(err)}`));
  }
  // After the cgroup: no process of the run can hold the disk any more.
  await rt.disks.detach(rt.store.dir(c.id)).catch((err: unknown) => errors.push(`disk: ${String(err)}`));
  if (errors.length > 0) rt.log.error('cannot release what a run held (the next corrald start retries)', { id: c.id, name: c.name, errors });
  return errors;
}

/**
 * rmdir fails while the cgroup holds a process (EBUSY): a straggler that outlived PID 1, or a
 * program a cut-short start left running. Kill what is in it and try again while that helps; on a
 * busy machine exiting tasks take their time, so rounds continue as long as the cgroup still
 * empties out, not for a fixed time.
 */
async function removeCgroup(rt: Runtime, id: string): Promise<string | undefined> {
  let last = '';
  let before = Infinity;
  for (let round = 0; ; round++) {
    try {
      await rt.deps.cgroups.remove(id);
      return undefined;
    } catch (err) {
      last = String(err);
    }
    const pids = await rt.deps.cgroups.pids(id).catch(() => [] as number[]);
    // No progress for several rounds with nothing left to kill: give up and report.
    if (round >= 3 && pids.length >= before) return `cgroup: ${last}`;
    before = pids.length;
    await rt.deps.cgroups.kill(id, 'SIGKILL').catch(() => {});
  }
}
