import { join } from 'node:path';
import { CgroupError } from '../../errors.js';
import type { CpusetStats } from '../v2/cpuset.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * v1 cpuset: cpuset.cpus and cpuset.mems, each a subset of the parent's (the kernel refuses
 * others). Stats are the effective lists.
 */
export const CONTROLLER = 'cpuset';
export type { CpusetStats };

/** Same files and values as on v2 (only the stats files are named differently). */
export { apply, wants } from '../v2/cpuset.js';

export async function stats(dir: string): Promise<CpusetStats> {
  return {
    cpus: (await readCgroupFile(join(dir, 'cpuset.effective_cpus'))) ?? '',
    mems: (await readCgroupFile(join(dir, 'cpuset.effective_mems'))) ?? '',
  };
}

/**
 * v1 cpuset: a new cgroup starts with empty cpuset.cpus and cpuset.mems, and no task can join it
 * until both are set. Copy them from the parent when empty (Docker's cgroupfs driver, runc
 * `cpusetCopyIfNeeded`); a level that already has values is left alone.
 */
export async function fillCpuset(dir: string, parentDir: string): Promise<void> {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = await readCgroupFile(join(dir, file));
    if (own) continue;
    const inherited = await readCgroupFile(join(parentDir, file));
    if (!inherited) throw new CgroupError('copy', join(parentDir, file), 'parent cpuset is empty');
    await writeCgroupFile(join(dir, file), inherited);
  }
}

/**
 * With `cgroup.clone_children` set on Corral's parent, the kernel copies cpus and mems into each
 * new child at mkdir, so starting a container costs no cpuset reads or writes.
 */
export async function cloneCpusetToChildren(parentDir: string): Promise<void> {
  await writeCgroupFile(join(parentDir, 'cgroup.clone_children'), '1');
}
