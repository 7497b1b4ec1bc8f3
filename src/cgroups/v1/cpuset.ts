import { join } from 'node:path';
import { CgroupError } from '../../errors.js';
import { writeSetting } from '../controller.js';
import { type AppliedSetting, type Limits, parseList } from '../limits.js';
import { PAYLOAD } from '../tree.js';
import { type CpusetStats, wants } from '../v2/cpuset.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * v1 cpuset: cpuset.cpus and cpuset.mems, each a subset of the parent's (the kernel refuses
 * others). Stats are the effective lists.
 */
export const CONTROLLER = 'cpuset';
export type { CpusetStats };

/** Same files and values as on v2 (only the stats files are named differently). */
export { wants };

/**
 * v1 keeps every child's cpus and mems within its parent's: writing a set to the limits cgroup
 * that leaves out some of its processes' cgroup (`<dir>/payload`, which got the old set at mkdir)
 * is EBUSY, and a grown set does not reach the child by itself. So the child follows: the parent
 * first widens to old ∪ new (still within Corral's parent), the child takes the new set, then the
 * parent narrows to it. v2 needs none of this: an empty child set means the parent's.
 */
export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const done: AppliedSetting[] = [];
  const child = join(dir, PAYLOAD);
  for (const w of wants(limits)) {
    const value = w.limit === 'cpuset-cpus' ? limits.cpuset!.cpus! : limits.cpuset!.mems!;
    const old = await readCgroupFile(join(dir, w.file));
    const childOld = await readCgroupFile(join(child, w.file));
    const wider = old === undefined ? undefined : union(old, value);
    // Growing (or disjoint): the parent widens first. When that is the new set, it is the write.
    let parentDone: AppliedSetting | undefined;
    if (wider !== undefined && wider !== old) {
      if (wider === value) parentDone = await writeSetting(dir, w, value);
      else await writeCgroupFile(join(dir, w.file), wider);
    }
    if (childOld !== undefined) done.push(await writeSetting(child, w, value));
    done.push(parentDone ?? (await writeSetting(dir, w, value)));
  }
  return done;
}

/** old ∪ new in list syntax; undefined when either does not parse (the kernel then says why). */
function union(a: string, b: string): string | undefined {
  if (a === '') return b;
  const x = parseList(a);
  const y = parseList(b);
  if (!x || !y) return undefined;
  const all = [...new Set([...x, ...y])].sort((p, q) => p - q);
  const ranges: string[] = [];
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1] === all[j]! + 1) j++;
    ranges.push(i === j ? `${all[i]}` : `${all[i]}-${all[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
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
