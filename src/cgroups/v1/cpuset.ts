import { join } from 'node:path';
import { CgroupError } from '../../errors.js';
import { type WantedSetting, writeSetting } from '../controller.js';
import type { AppliedSetting, Limits } from '../limits.js';
import type { CpusetStats } from '../v2/cpuset.js';
import { wants as v2Wants } from '../v2/cpuset.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * v1 cpuset: cpuset.cpus and cpuset.mems, each a subset of the parent's (the kernel refuses
 * others). Stats are the effective lists.
 */
export const CONTROLLER = 'cpuset';
export type { CpusetStats };

/** Same files and values as on v2. */
export function wants(limits: Limits): WantedSetting[] {
  return v2Wants(limits);
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const done: AppliedSetting[] = [];
  for (const w of wants(limits)) done.push(await writeSetting(dir, w, w.limit === 'cpuset-cpus' ? limits.cpuset!.cpus! : limits.cpuset!.mems!));
  return done;
}

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
