import { rmdir as fsRmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { cgroupError } from './write.js';
import { childCgroups, sleep } from './tree.js';

export interface RemoveOptions {
  rmdir?: ((path: string) => Promise<void>) | undefined;
  timeoutMs?: number | undefined;
}

/**
 * rmdir one cgroup, teardown-style: a missing directory is already removed; EBUSY means tasks are
 * still exiting or the container made nested cgroups, so those go first (depth first) and the
 * rmdir is retried until the deadline (youki v2 `remove()`, runc `RemovePath`).
 */
export async function removeCgroupDir(dir: string, opts: RemoveOptions = {}): Promise<void> {
  const rmdir = opts.rmdir ?? fsRmdir;
  const deadline = Date.now() + (opts.timeoutMs ?? 2000);
  await removeUntil(dir, rmdir, deadline);
}

async function removeUntil(dir: string, rmdir: (path: string) => Promise<void>, deadline: number): Promise<void> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      if (!isErrno(err, 'EBUSY') && !isErrno(err, 'ENOTEMPTY')) throw cgroupError('remove', dir, err);
      for (const child of await childCgroups(dir)) await removeUntil(join(dir, child), rmdir, deadline);
      if (Date.now() >= deadline) throw cgroupError('remove', dir, err);
      await sleep(delay);
    }
  }
}

/** One rmdir, no retries: for Corral's own parent, which must already be empty. */
export async function removeEmptyCgroupDir(dir: string, rmdir: ((path: string) => Promise<void>) | undefined): Promise<void> {
  try {
    await (rmdir ?? fsRmdir)(dir);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw cgroupError('remove', dir, err);
  }
}
