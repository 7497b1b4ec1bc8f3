import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { cgroupError } from './write.js';

/**
 * The files a delegatee must own to manage a subtree: cgroup v2's delegation model
 * (Documentation/admin-guide/cgroup-v2.rst, "Delegation"), and v1's `tasks` for name=systemd.
 * Never the subtree's own limit files: what `<id>` enforces stays out of its reach.
 */
const DELEGATED_FILES = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'tasks'];

/**
 * Hand the container's process cgroups (its cgroup namespace roots) to its root user, so a
 * system container's init can make and manage cgroups beneath its limits. Idempotent.
 */
export async function delegateDirs(dirs: readonly string[], uid: number, gid: number): Promise<void> {
  for (const dir of dirs) {
    try {
      await chown(dir, uid, gid);
    } catch (err) {
      throw cgroupError('delegate', dir, err);
    }
    for (const f of DELEGATED_FILES) {
      const p = join(dir, f);
      await chown(p, uid, gid).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw cgroupError('delegate', p, err);
      });
    }
  }
}
